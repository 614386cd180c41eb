"""Use cases over the store: what the CLI, the API and the jobs call.

Each function takes a :class:`~cardbatch.store.Store` (or a connection inside
one of its transactions) and the acting user, and returns plain records.
"""
