"""The JMBG registration area of each municipality in the demo's place list.

A JMBG's digits 8-9 name the area where the number was issued
(`domain.jmbg.REGIONS`). The Law on the JMBG groups Serbia's municipalities
into areas 71-89 along the administrative districts, which is how this table
assigns them: Belgrade 71, Šumadija and Pomoravlje 72, Nišava, Pirot and
Toplica 73, Jablanica and Pčinja 74, Zaječar and Bor 75, Podunavlje and
Braničevo 76, Mačva and Kolubara 77, Raška, Rasina and Moravica 78, Zlatibor
79, and in Vojvodina South Bačka 80, West Bačka 81, North Bačka 82, North
Banat 84, Central Banat 85, South Banat 86 (Pančevo) and 87 (Vršac), Srem 88
(Ruma) and 89 (Sremska Mitrovica). Area 83 names no district in any source
(see `domain.jmbg.REGIONS`), so no demo citizen gets it.

This is demo data: a municipality that the law places differently from its
district would only make a demo JMBG name a neighbouring area, which people
who moved have anyway.
"""

from __future__ import annotations

from typing import Final

_AREAS: Final[dict[int, tuple[str, ...]]] = {
    71: ("Beograd",),
    72: (
        "Kragujevac", "Aranđelovac", "Batočina", "Knić", "Lapovo", "Rača", "Topola",
        "Jagodina", "Ćuprija", "Despotovac", "Paraćin", "Rekovac", "Svilajnac",
    ),
    73: (
        "Niš", "Aleksinac", "Doljevac", "Gadžin Han", "Merošina", "Ražanj", "Svrljig",
        "Pirot", "Babušnica", "Bela Palanka", "Dimitrovgrad",
        "Prokuplje", "Blace", "Kuršumlija", "Žitorađa",
    ),
    74: (
        "Leskovac", "Bojnik", "Lebane", "Medveđa", "Vlasotince", "Crna Trava",
        "Vranje", "Bosilegrad", "Bujanovac", "Preševo", "Surdulica", "Trgovište", "Vladičin Han",
    ),
    75: ("Zaječar", "Boljevac", "Knjaževac", "Sokobanja", "Bor", "Kladovo", "Majdanpek", "Negotin"),
    76: (
        "Smederevo", "Smederevska Palanka", "Velika Plana",
        "Požarevac", "Golubac", "Kučevo", "Malo Crniće", "Petrovac na Mlavi", "Veliko Gradište",
        "Žabari", "Žagubica",
    ),
    77: (
        "Šabac", "Bogatić", "Koceljeva", "Krupanj", "Loznica", "Ljubovija", "Mali Zvornik",
        "Vladimirci", "Valjevo", "Lajkovac", "Ljig", "Mionica", "Osečina", "Ub",
    ),
    78: (
        "Kraljevo", "Novi Pazar", "Raška", "Tutin", "Vrnjačka Banja",
        "Kruševac", "Aleksandrovac", "Brus", "Ćićevac", "Trstenik", "Varvarin",
        "Čačak", "Gornji Milanovac", "Ivanjica", "Lučani",
    ),
    79: (
        "Užice", "Arilje", "Bajina Bašta", "Čajetina", "Kosjerić", "Nova Varoš", "Požega",
        "Priboj", "Prijepolje", "Sjenica",
    ),
    80: (
        "Novi Sad", "Bač", "Bačka Palanka", "Bački Petrovac", "Beočin", "Bečej", "Vrbas",
        "Žabalj", "Srbobran", "Sremski Karlovci", "Temerin", "Titel",
    ),
    81: ("Sombor", "Apatin", "Kula", "Odžaci"),
    82: ("Subotica", "Bačka Topola", "Mali Iđoš"),
    84: ("Kikinda", "Ada", "Kanjiža", "Novi Kneževac", "Senta", "Čoka"),
    85: ("Zrenjanin", "Žitište", "Nova Crnja", "Novi Bečej", "Sečanj"),
    86: ("Pančevo", "Alibunar", "Kovačica", "Kovin", "Opovo"),
    87: ("Vršac", "Bela Crkva", "Plandište"),
    88: ("Ruma", "Inđija", "Irig", "Pećinci", "Stara Pazova"),
    89: ("Sremska Mitrovica", "Šid"),
}  # fmt: skip

JMBG_AREA_BY_MUNICIPALITY: Final[dict[str, int]] = {
    municipality: area for area, municipalities in _AREAS.items() for municipality in municipalities
}
"""Municipality (as spelled in the places file) -> JMBG registration area."""

SERBIAN_AREAS: Final[tuple[int, ...]] = tuple(sorted(_AREAS))
"""The areas demo citizens' numbers are issued in (71-89 without 83)."""


def jmbg_area(municipality: str) -> int:
    """The registration area for `municipality`.

    Raises ``KeyError`` for a municipality this table does not list: the
    places file and this table are kept in step by a test.
    """
    return JMBG_AREA_BY_MUNICIPALITY[municipality]
