"""Rosters: a site's appointments for one day."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from central.api.deps import AnyDep, HubDep
from central.api.errors import responses
from central.api.routers.sites import Cursor, SiteCode
from central.services import rosters
from central.services.pagination import MAX_PAGE_SIZE
from domain.wire import RosterPage

router = APIRouter(tags=["rosters"])
ROSTER_PAGE_SIZE = 500


@router.get(
    "/v1/sites/{code}/roster",
    response_model=RosterPage,
    responses=responses(400, 401, 403, 404, 426),
    summary="A site's roster for a day",
)
def get_roster(
    code: SiteCode,
    principal: AnyDep,
    hub: HubDep,
    day: Annotated[date, Query(alias="date", description="The site-local day, YYYY-MM-DD.")],
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size.")
    ] = ROSTER_PAGE_SIZE,
    cursor: Cursor = None,
) -> RosterPage:
    """The site's appointments on the day, by slot. Only for that site's own
    credential (another site gets 403) and for central staff."""
    return rosters.roster(hub, principal, code, day, limit=limit, cursor=cursor)
