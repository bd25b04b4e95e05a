"""Providers: the Provider protocol and one package per provider (sandbox/, ...)."""
