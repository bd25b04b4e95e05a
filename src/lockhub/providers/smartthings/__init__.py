"""SmartThings cloud API: the async client (the Provider comes later)."""
