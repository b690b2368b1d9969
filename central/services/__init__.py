"""The hub's use cases, independent of HTTP: each module is one concept.

Routers in `central.api` and commands in `central.cli` call these; they take
a `central.services.context.Hub` (database, clock) and plain values, and raise
`central.services.errors.HubError` subclasses for anything a person must fix.
Each use case runs in one transaction of its own.
"""
