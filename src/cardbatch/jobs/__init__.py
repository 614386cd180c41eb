"""Batch businesses on the engine, one module per job; each registers itself at import."""
