"""The hub's HTTP API (FastAPI on uvicorn).

- `central.api.app`: the application factory;
- `central.api.routers`: routes, one module per concept;
- `central.api.deps`: who is calling, the protocol window, the rate limit;
- `central.api.errors`: the one error shape and status codes;
- `central.api.middleware`: request ids, access log, metrics, body limit.
"""

from central.api.app import app_from_environment, create_app

__all__ = ["app_from_environment", "create_app"]
