"""Operations: liveness with a database check, and Prometheus metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from central.api import metrics
from central.api.deps import HubDep
from domain.wire import MAX_PROTOCOL_VERSION, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, Health

router = APIRouter(tags=["operations"])
log = logging.getLogger("imuno.hub")


@router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"model": Health, "description": "The database cannot be reached."}},
    summary="Liveness and database reachability",
)
def healthz(hub: HubDep, response: Response) -> Health:
    """200 when the hub can query its database, 503 when it cannot."""
    database = "ok"
    try:
        with hub.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        log.exception("health check: database unreachable")
        database = "unreachable"
        response.status_code = 503
    return Health(
        status="ok" if database == "ok" else "unavailable",
        database=database,  # type: ignore[arg-type]
        protocol_version=PROTOCOL_VERSION,
        accepted_protocol_versions=list(range(MIN_PROTOCOL_VERSION, MAX_PROTOCOL_VERSION + 1)),
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Metrics in the Prometheus text exposition format.",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
    summary="Prometheus metrics",
)
def prometheus_metrics() -> Response:
    """Request counts and durations by route, for Prometheus to scrape."""
    return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)
