"""Server-rendered pages (the Connect Webview an end user signs in through)."""
