"""The hub's side of sync: push, pull, verification and sync status.

Plain functions over a SQLAlchemy session (`push.push_batch`,
`pull.pull_page`, `verify.digests`, `status.sync_status`); the HTTP router
(`central.api.routers.sync`) is a thin adapter around them, and the
in-process transport of the site engine's tests calls them directly.
"""
