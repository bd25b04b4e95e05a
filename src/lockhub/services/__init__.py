"""Use cases: each function opens one transaction, calls domain and store, records events."""
