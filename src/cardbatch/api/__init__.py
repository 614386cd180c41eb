"""The REST API and the web console's host: a FastAPI app over the service functions.

``create_app(settings)`` builds it; ``routers/`` holds one router per area
(health, me, accounts, ledger, audit, users, runs). Areas that land later
(batches, rules, segments, feedback) add a module there and one line to
``routers.ROUTERS``; each endpoint names the :class:`~cardbatch.domain.roles.Action`
it performs through ``Depends(require(Action.X))``.
"""
