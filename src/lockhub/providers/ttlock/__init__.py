"""TTLock Open Platform (cloud) provider."""
