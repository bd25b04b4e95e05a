"""Pure rules: object shapes, capability flags, event catalogue. No I/O, no framework."""
