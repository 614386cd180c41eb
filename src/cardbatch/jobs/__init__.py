"""Batch businesses: one module per job, computing over whole partitions of accounts."""
