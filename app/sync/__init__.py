"""Sync between this site's store and the hub (DESIGN.md, "Sync: rules that keep every dose").

- `outbox`: `record_change`, called by use cases inside their write
  transaction, and the batches built from the outbox;
- `wire_forms`: local rows as wire payloads (doses, appointment events,
  citizen writes);
- `apply`: pulled change-log entries applied to the local store;
- `transport`: the `Transport` interface, its errors and the HTTP client;
  `in_process` is the same interface over the hub's services (tests, bench);
- `engine`: one sync round (push, then pull, then verify);
- `worker`: rounds in a background thread with backoff and a watchdog;
- `cli`: ``imuno-site sync``.
"""
