"""The hub's ASGI application.

`create_app` builds it from settings (tests pass a clock, and later a CSR
signer); `app_from_environment` is the factory uvicorn calls in every worker
process (``imuno-hub serve``), reading the settings from ``IMUNO_HUB_*``.

At start-up the app refuses to run on a database whose schema is not at the
newest migration (``imuno-hub migrate``, which ``serve`` runs first), rather
than fail request by request.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from central.api import errors
from central.api.middleware import BodyLimit, RequestContext
from central.api.routers import appointments, ops, registrations, rosters, sites, staff
from central.api.routers import certificates as certificates_router
from central.api.routers import review as review_router
from central.api.routers import schedule_status as schedule_status_router
from central.api.routers import stock as stock_router
from central.api.routers import sync as sync_router
from central.db import current_revision, head_revision
from central.services.context import Hub
from central.services.enrolment import CsrSigner
from central.settings import HubSettings
from domain.clock import Clock
from domain.wire import PROTOCOL_VERSION

log = logging.getLogger("imuno.hub")

DESCRIPTION = f"""
The central hub of the imuno immunisation system: registration intake for the
citizens' portal, site enrolment, rosters for sites, appointment changes for
central staff.

Sites authenticate every request with `Authorization: Bearer <credential>` and
send `Imuno-Protocol: <version>` (this hub speaks {PROTOCOL_VERSION}). Every error
answer has the shape `{{"error": {{"code", "message", "fields", "request_id"}}}}`;
send `Accept-Language: sr-Latn` or `sr-Cyrl` for messages in Serbian.
"""


class SchemaNotCurrent(RuntimeError):
    """The database schema is older (or newer) than this release expects."""


def _check_schema(hub: Hub) -> None:
    found, expected = current_revision(hub.engine), head_revision()
    if found != expected:
        raise SchemaNotCurrent(
            f"the database is at schema revision {found}, this hub needs {expected}: "
            "run 'imuno-hub migrate' (imuno-hub serve does it before starting)"
        )
    with hub.sessions() as session, session.begin():
        hub.rate_limiter.forget_stale(session, hub.clock.now())


def create_app(
    settings: HubSettings,
    *,
    clock: Clock | None = None,
    csr_signer: CsrSigner | None = None,
    hub: Hub | None = None,
) -> FastAPI:
    """The hub application over the settings' database (which must be migrated)."""
    the_hub = hub or Hub.open(settings, clock=clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(_check_schema, the_hub)
        log.info("hub ready", extra={"database": the_hub.engine.url.render_as_string()})
        try:
            yield
        finally:
            the_hub.close()

    app = FastAPI(
        title="imuno hub",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.hub = the_hub
    app.state.csr_signer = csr_signer
    errors.install(app)
    for router in (
        ops.router,
        registrations.router,
        sites.router,
        rosters.router,
        staff.router,
        appointments.router,
        sync_router.router,
        schedule_status_router.router,
        certificates_router.router,
        stock_router.router,
        review_router.router,
    ):
        app.include_router(router)
    # Added last = outermost: the request context wraps the body limit.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContext)
    return app


def app_from_environment() -> Any:
    """The application configured from ``IMUNO_HUB_*`` (uvicorn's factory)."""
    from central.certificates.csr_signer import HubCsrSigner

    return create_app(HubSettings(), csr_signer=HubCsrSigner())
