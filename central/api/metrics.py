"""Prometheus metrics of the HTTP layer, in the text exposition format.

Labels use the route's path template (``/v1/sites/{code}/roster``), never
the raw path, so the number of series stays fixed. With several uvicorn
workers, ``imuno-hub serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a
folder before the workers start; each worker then writes its samples there
and ``/metrics`` aggregates all workers (prometheus_client's multiprocess
mode). With one worker the process registry is served directly.
"""

from __future__ import annotations

import os
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS: Final = Counter(
    "imuno_hub_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
DURATION: Final = Histogram(
    "imuno_hub_http_request_duration_seconds",
    "Time from receiving a request to the end of its answer.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

CONTENT_TYPE: Final = CONTENT_TYPE_LATEST


def observe(method: str, route: str, status: int, seconds: float) -> None:
    """Record one answered request."""
    REQUESTS.labels(method, route, str(status)).inc()
    DURATION.labels(method, route).observe(seconds)


def render() -> bytes:
    """Every metric in the Prometheus text format (all workers' in multiprocess mode)."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)
