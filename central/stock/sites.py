"""Finding the sites stock goes to, by the code staff type."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.db import Site
from central.stock.errors import StockNotFound


def find_site(session: Session, code: str) -> Site:
    """The site with this code. Raises `StockNotFound`."""
    site = session.scalar(select(Site).where(Site.code == code))
    if site is None:
        raise StockNotFound(thing="site", key=code)
    return site
