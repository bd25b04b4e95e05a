"""Background work on leased rows: action attempts now; code sync and webhooks build on it."""
