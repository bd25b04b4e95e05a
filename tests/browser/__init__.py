"""Connect Webview pages driven in a real browser (Chromium through Playwright)."""
