"""igloohome (iglooaccess API)."""
