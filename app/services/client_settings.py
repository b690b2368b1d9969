"""The workstation's own client settings: its language and its camera.

Kept in the store's ``settings`` table (JSON values), so they survive a
restart and a backup restores them. `client_settings(engine)` reads both;
`save_language` and `save_camera` write one each. Values outside what the
client knows read as "not set" rather than failing the start-up.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Final

from sqlalchemy.engine import Engine

from app.local_db.models.site import Setting
from app.local_db.unit_of_work import session_scope
from domain.clock import Clock
from domain.i18n import LANGUAGES, Language

LANGUAGE_SETTING: Final = "client.language"
CAMERA_SETTING: Final = "client.camera_index"


@dataclass(frozen=True)
class ClientSettings:
    """The language shown (None: the default) and the camera to scan with (None: none)."""

    language: Language | None
    camera_index: int | None


def client_settings(engine: Engine) -> ClientSettings:
    """The stored language and camera; unknown or malformed values read as unset."""
    with session_scope(engine, write=False) as session:
        language = session.get(Setting, LANGUAGE_SETTING)
        camera = session.get(Setting, CAMERA_SETTING)
        language_value = language.value if language is not None else None
        camera_value = camera.value if camera is not None else None
    chosen: Language | None = None
    for known in LANGUAGES:
        if language_value == known:
            chosen = known
    index = camera_value if isinstance(camera_value, int) and camera_value >= 0 else None
    return ClientSettings(chosen, index)


def save_language(engine: Engine, language: Language, *, clock: Clock, actor: uuid.UUID) -> None:
    """Remember `language` for the next start."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    _save(engine, LANGUAGE_SETTING, language, clock, actor)


def save_camera(
    engine: Engine, camera_index: int | None, *, clock: Clock, actor: uuid.UUID
) -> None:
    """Scan with camera `camera_index` from now on (None: no camera)."""
    if camera_index is not None and camera_index < 0:
        raise ValueError("a camera index is 0 or more")
    _save(engine, CAMERA_SETTING, camera_index, clock, actor)


def _save(engine: Engine, key: str, value: object, clock: Clock, actor: uuid.UUID) -> None:
    now = clock.now()
    with session_scope(engine) as session:
        row = session.get(Setting, key)
        if row is None:
            session.add(Setting(key=key, value=value, updated_at=now, updated_by=actor))
        else:
            row.value, row.updated_at, row.updated_by = value, now, actor
