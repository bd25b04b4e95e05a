"""lockhub: a self-hosted universal smart-lock API server, wire-compatible with Seam Connect."""

__version__ = "0.1.0"
