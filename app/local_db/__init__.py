"""The site's local store: SQLite (WAL, synchronous=FULL), SQLAlchemy 2 models, Alembic.

Where to find what:

* `engine.open_site_store(path)` opens (creating and migrating) the store;
  `unit_of_work.session_scope(engine, write=...)` is the one way to run a use
  case's transaction.
* `models` holds the tables, one module per concept, and the rules the store
  enforces itself (append-only facts, the double-dose guard: see
  `models.doses`).
* `migrate` runs Alembic programmatically at start-up and refuses stores
  from a newer client; `migrations/` holds the revisions.
* `backup.backup` copies the store online; `export.export_table` writes one
  table as CSV or JSON; `info.store_info` describes a store file.
* `sealing.SecretBox` keeps the site credential sealed on disk.
* `errors` lists every error a person may read from this package.

Nothing here imports the UI, the services or sync: the store knows nothing
above it.
"""
