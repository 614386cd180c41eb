"""Batch businesses on the engine, one module per job, over whole partitions of accounts."""
