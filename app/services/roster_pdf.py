"""Today's roster as an A4 PDF, for the desk and the door (reportlab).

`render_roster_pdf(roster, ...)` is pure: a `Roster` value in, PDF bytes out,
so it can run off the database thread. `day_roster_pdf(engine, clock, day)`
and `today_roster_pdf(engine, clock)` read a day's roster and render it.
Text is in the chosen language (Serbian Latin by default; labels from
``domain/locale``), with the DejaVu Sans font the certificates ship
(`domain/certificates/fonts`), which has the Serbian Latin and Cyrillic
letters. JMBGs are printed masked, as on screen.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Final

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy.engine import Engine

from app.local_db.unit_of_work import session_scope
from app.services.roster import Roster, read_roster
from app.services.workplace import local_day, local_zone, site_here
from domain.clock import Clock
from domain.data import RuleSet, rules_in_force
from domain.i18n import Language, latin_to_cyrillic, translate

_FONT: Final = "ImunoRosterDejaVuSans"
_MARGIN: Final = 14 * mm
_STRIPE: Final = colors.Color(0.96, 0.96, 0.96)

#: English defaults of the printed labels; Serbian is in services_clinical.sr-Latn.json.
_LABELS: Final[Mapping[str, str]] = {
    "title": "Roster for {day}",
    "site": "Site: {site}",
    "printed": "Printed {when}",
    "counts": "Booked {booked} · checked in {checked_in} · done {done} · no-show {no_show}",
    "time": "Time",
    "name": "Name",
    "jmbg": "JMBG",
    "product": "Vaccine",
    "dose": "Dose",
    "status": "Status",
    "empty": "No appointments.",
    "page": "Page {page}",
    "status.scheduled": "booked",
    "status.checked_in": "checked in",
    "status.done": "done",
    "status.no_show": "no-show",
    "status.cancelled": "cancelled",
    "status.rescheduled": "rescheduled",
    "status.rebook_requested": "to rebook",
}


def _label(key: str, language: Language, **params: object) -> str:
    return translate(f"clinical.roster_pdf.{key}", language, _LABELS[key], **params)


@cache
def _register_font() -> None:
    font = resources.files("domain.certificates") / "fonts" / "DejaVuSans-subset.ttf"
    with resources.as_file(font) as path:
        pdfmetrics.registerFont(TTFont(_FONT, str(path)))


def render_roster_pdf(
    roster: Roster,
    *,
    site_name: str,
    printed_at: datetime,
    language: Language = "sr-Latn",
    product_names: Mapping[str, str] | None = None,
) -> bytes:
    """The roster as A4 pages (a header with counts, one table row per appointment).

    `product_names` maps product codes to names (codes are printed when absent).
    Names are printed in Cyrillic when `language` is ``sr-Cyrl``.
    """
    _register_font()
    names = product_names or {}
    normal = ParagraphStyle("roster", fontName=_FONT, fontSize=9, leading=11)
    heading = ParagraphStyle("roster-title", fontName=_FONT, fontSize=15, leading=19)
    day = roster.day.strftime("%d.%m.%Y.")
    counts = roster.counts

    def person(given: str, family: str) -> str:
        text = f"{family} {given}"
        return latin_to_cyrillic(text) if language == "sr-Cyrl" else text

    header = [
        _label(key, language) for key in ("time", "name", "jmbg", "product", "dose", "status")
    ]
    body = [
        [
            row.slot_start.strftime("%H:%M"),
            Paragraph(_escape(person(row.given_name, row.family_name)), normal),
            row.jmbg_masked,
            Paragraph(_escape(names.get(row.product_code, row.product_code)), normal),
            str(row.dose_number),
            _label(f"status.{row.status.value}", language),
        ]
        for row in roster.rows
    ]
    story: list[object] = [
        Paragraph(_escape(_label("title", language, day=day)), heading),
        Paragraph(_escape(_label("site", language, site=site_name)), normal),
        Paragraph(
            _escape(_label("printed", language, when=printed_at.strftime("%d.%m.%Y. %H:%M"))),
            normal,
        ),
        Paragraph(
            _escape(
                _label(
                    "counts",
                    language,
                    booked=counts.booked,
                    checked_in=counts.checked_in,
                    done=counts.done,
                    no_show=counts.no_show,
                )
            ),
            normal,
        ),
        Spacer(1, 5 * mm),
    ]
    if body:
        table = Table(
            [header, *body],
            colWidths=[16 * mm, 62 * mm, 30 * mm, 38 * mm, 12 * mm, 24 * mm],
            repeatRows=1,
        )
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), _FONT),
                    ("FONTSIZE", (0, 0), (-1, -1), 9),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.88, 0.88, 0.88)),
                    ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
                    (
                        "ROWBACKGROUNDS",
                        (0, 1),
                        (-1, -1),
                        [colors.white, colors.Color(0.96, 0.96, 0.96)],
                    ),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        story.append(table)
    else:
        story.append(Paragraph(_escape(_label("empty", language)), normal))

    def footer(canvas: Canvas, document: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(_FONT, 8)
        canvas.drawRightString(
            A4[0] - _MARGIN, _MARGIN / 2, _label("page", language, page=document.page)
        )
        canvas.restoreState()

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN,
        title=_label("title", language, day=day),
        invariant=True,
    )
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _escape(text: str) -> str:
    """Text safe inside a reportlab Paragraph (which reads a little XML)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def day_roster_pdf(
    engine: Engine,
    clock: Clock,
    day: date | None = None,
    *,
    language: Language = "sr-Latn",
    rules: RuleSet | None = None,
) -> bytes:
    """The roster of `day` (default: today at the site) as PDF bytes.

    Raises `SiteNotEnrolled` before enrolment (the page names the site).
    """
    with session_scope(engine, write=False) as session:
        site = site_here(session)
        today = local_day(session, clock)
        roster = read_roster(session, day or today)
        printed_at = clock.now().astimezone(local_zone(session))
    ruleset = rules or rules_in_force(roster.day)
    names = {product.id: product.name for product in ruleset.catalogue.products}
    return render_roster_pdf(
        roster,
        site_name=site.site_name,
        printed_at=printed_at,
        language=language,
        product_names=names,
    )


def today_roster_pdf(
    engine: Engine,
    clock: Clock,
    *,
    language: Language = "sr-Latn",
    rules: RuleSet | None = None,
) -> bytes:
    """Today's roster at this site as PDF bytes (`SiteNotEnrolled` before enrolment)."""
    return day_roster_pdf(engine, clock, language=language, rules=rules)
