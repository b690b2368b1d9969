"""A site's roster: its appointments on one day, for that site or central staff.

Who may read it: the site itself (its credential names the site) and any
central staff member. Another site gets `Forbidden` whether or not the code
exists, so credentials cannot be used to probe other sites.

Every appointment of the day is listed, with its status, so a site also
sees cancellations and moves; the citizen's full JMBG is included because
the nurse checks it against the ID document.
"""

from __future__ import annotations

import uuid
from datetime import date, time

from sqlalchemy import and_, or_, select

from central.db import Appointment, Citizen
from central.services.appointments import latest_kind, status_from
from central.services.context import Hub
from central.services.errors import FieldProblem, InvalidRequest, OtherSite
from central.services.pagination import BadCursor, decode_cursor, encode_cursor
from central.services.principals import Principal, SitePrincipal
from central.services.sites import site_id_of
from domain.wire import RosterCitizen, RosterEntry, RosterPage


def roster(
    hub: Hub,
    principal: Principal,
    site_code: str,
    day: date,
    *,
    limit: int,
    cursor: str | None = None,
) -> RosterPage:
    """A page of the site's roster for `day`, by slot then appointment id.

    Raises `Forbidden` (another site's roster), `UnknownSite` (staff asking
    for a code that does not exist) or `InvalidRequest` (a bad cursor).
    """
    if isinstance(principal, SitePrincipal) and principal.site_code != site_code:
        raise OtherSite()
    # Only the columns the roster shows: loading whole citizen rows would also
    # decode their JSON columns, a third of the cost of a large roster.
    statement = (
        select(
            Appointment.id,
            Appointment.slot_start,
            Appointment.product_id,
            Appointment.dose_number,
            latest_kind(),
            Citizen.id,
            Citizen.jmbg,
            Citizen.first_name_latin,
            Citizen.last_name_latin,
            Citizen.first_name_cyrillic,
            Citizen.last_name_cyrillic,
            Citizen.birth_date,
            Citizen.sex,
            Citizen.phone,
        )
        .join(Citizen, Citizen.id == Appointment.citizen_id)
        .order_by(Appointment.slot_start, Appointment.id)
        .limit(limit + 1)
    )
    if cursor is not None:
        after_slot, after_id = decode_cursor(cursor, 2)
        try:
            slot, appointment_id = time.fromisoformat(after_slot), uuid.UUID(after_id)
        except ValueError:
            raise InvalidRequest([FieldProblem("cursor", BadCursor())]) from None
        statement = statement.where(
            or_(
                Appointment.slot_start > slot,
                and_(Appointment.slot_start == slot, Appointment.id > appointment_id),
            )
        )
    with hub.read_sessions() as session:
        site_id = (
            principal.site_id
            if isinstance(principal, SitePrincipal)
            else site_id_of(session, site_code)
        )
        statement = statement.where(Appointment.site_id == site_id, Appointment.day == day)
        rows = session.execute(statement).all()
    more = len(rows) > limit
    entries = [
        RosterEntry(
            appointment_id=row[0],
            slot_start=row[1],
            product_id=row[2],
            dose_number=row[3],
            status=status_from(row[4]).value,
            citizen=RosterCitizen(
                id=row[5],
                jmbg=row[6],
                first_name_latin=row[7],
                last_name_latin=row[8],
                first_name_cyrillic=row[9],
                last_name_cyrillic=row[10],
                birth_date=row[11],
                sex=row[12],
                phone=row[13],
            ),
        )
        for row in rows[:limit]
    ]
    last = entries[-1] if more else None
    return RosterPage(
        site_code=site_code,
        day=day,
        items=entries,
        next_cursor=(
            encode_cursor([last.slot_start.isoformat(), str(last.appointment_id)])
            if last is not None
            else None
        ),
    )
