from __future__ import annotations

import base64
import csv
import io
import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from app.local_db import models as m
from app.local_db.errors import StoreNotFound, UnknownTable, UnsupportedFormat
from app.local_db.export import ExportFormat, export_table, exportable_tables
from app.local_db.models import secret_columns
from app.local_db.sealing import SecretBox
from app.local_db.unit_of_work import session_scope
from tests.app.local_db import factories as f

CREDENTIAL = b"plain-credential-secret-0042"


def _export(path: Path, table: str, fmt: str) -> str:
    out = io.StringIO()
    export_table(path, table, fmt, out)
    return out.getvalue()


@pytest.fixture
def sealed(engine: Engine, tmp_path: Path) -> bytes:
    box = SecretBox.load_or_create(tmp_path / "site-secrets.key")
    sealed = box.seal(CREDENTIAL, purpose="site_identity.credential_secret")
    with session_scope(engine) as session:
        identity = f.enrol(session)
        identity.credential_secret_sealed = sealed
    return sealed


def test_csv_has_a_header_and_one_line_per_row(engine: Engine, store_path: Path) -> None:
    with session_scope(engine) as session:
        first = f.citizen(session, given_name_latin="Đorđe", given_name_cyrillic="Ђорђе")
        second = f.citizen(
            session, phone="+381 11 123 4567", created_at=f.NOW + timedelta(minutes=5)
        )
    rows = list(csv.DictReader(io.StringIO(_export(store_path, "citizens", "csv"))))
    assert [row["id"] for row in rows] == sorted([first.id.hex, second.id.hex])
    by_id = {row["id"]: row for row in rows}
    assert by_id[first.id.hex]["given_name_latin"] == "Đorđe"
    assert by_id[first.id.hex]["given_name_cyrillic"] == "Ђорђе"
    assert by_id[first.id.hex]["phone"] == ""  # NULL
    assert by_id[second.id.hex]["phone"] == "+381 11 123 4567"
    assert by_id[second.id.hex]["created_at"] == "2021-03-01 08:05:00.000000"
    assert json.loads(by_id[first.id.hex]["conditions"]) == []


def test_json_is_an_array_of_objects(engine: Engine, store_path: Path) -> None:
    with session_scope(engine) as session:
        citizen = f.citizen(session)
        dose = f.dose(session, citizen.id, 2)
    rows = json.loads(_export(store_path, "dose_records", "json"))
    assert rows == [
        {
            "id": dose.id.hex,
            "origin_site_id": f.HERE.hex,
            "citizen_id": citizen.id.hex,
            "appointment_id": None,
            "product_code": "EU/1/20/1528",
            "gtin": "05415062343169",
            "lot_number": "EW2239",
            "vial_id": None,
            "dose_number": 2,
            "administered_at": "2021-03-01 08:00:00.000000",
            "injection_site": "left_deltoid",
            "vaccinator_name": "Ana Petrović",
            "notes": None,
            "voids_dose_id": None,
            "created_at": "2021-03-01 08:00:00.000000",
            "created_by": f.NURSE.hex,
        }
    ]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_empty_table_exports_as_empty(engine: Engine, store_path: Path, fmt: str) -> None:
    text = _export(store_path, "recalls", fmt)
    if fmt == "json":
        assert json.loads(text) == []
    else:
        assert text.splitlines()[1:] == []
        assert text.splitlines()[0].startswith("id,gtin,lot_number")


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_secret_columns_never_leave_the_store(
    engine: Engine, store_path: Path, sealed: bytes, fmt: ExportFormat
) -> None:
    with session_scope(engine) as session:
        session.add(
            m.LocalUser(
                id=f.NURSE,
                username="ana",
                full_name="Ana Petrović",
                role=m.Role.NURSE,
                password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
                created_at=f.NOW,
                updated_at=f.NOW,
            )
        )
    identity = _export(store_path, "site_identity", fmt)
    users = _export(store_path, "local_users", fmt)
    assert "credential_secret_sealed" not in identity
    assert "signer_private_key_sealed" not in identity
    assert base64.b64encode(sealed).decode() not in identity
    assert CREDENTIAL.decode() not in identity
    assert "RS-BG-042" in identity  # the rest of the row is there
    assert "password_hash" not in users
    assert "argon2" not in users
    assert "ana" in users


def test_every_secret_column_is_known() -> None:
    assert secret_columns("site_identity") == {
        "credential_secret_sealed",
        "signer_private_key_sealed",
    }
    assert secret_columns("local_users") == {"password_hash"}
    assert secret_columns("dose_records") == frozenset()


def test_binary_values_are_base64(engine: Engine, store_path: Path) -> None:
    der = bytes(range(256))
    with session_scope(engine) as session:
        session.add(
            m.TrustedSigner(
                fingerprint="ab" * 32,
                kid="q83vEjRWeJA=",
                country="RS",
                certificate=der,
                not_before=f.NOW,
                not_after=f.NOW + timedelta(days=730),
                fetched_at=f.NOW,
            )
        )
    [row] = json.loads(_export(store_path, "trust_list", "json"))
    assert row["certificate"] == {"$base64": True, "encoded": base64.b64encode(der).decode()}
    [line] = csv.DictReader(io.StringIO(_export(store_path, "trust_list", "csv")))
    assert base64.b64decode(line["certificate"]) == der


def test_an_unknown_table_is_refused_with_the_known_ones(engine: Engine, store_path: Path) -> None:
    for name in ("patients", "alembic_version", "sqlite_master", "citizens; DROP TABLE x"):
        with pytest.raises(UnknownTable) as caught:
            _export(store_path, name, "csv")
        assert "dose_records" in str(caught.value)
        assert name in str(caught.value)


def test_an_unknown_format_is_refused(engine: Engine, store_path: Path) -> None:
    with pytest.raises(UnsupportedFormat, match="'xml'"):
        _export(store_path, "citizens", "xml")


def test_a_table_the_store_does_not_have_yet_is_refused(tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite"
    sqlite3.connect(old).close()
    with pytest.raises(UnknownTable, match="'citizens'"):
        _export(old, "citizens", "csv")


def test_a_missing_store_is_reported(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFound):
        _export(tmp_path / "missing.sqlite", "citizens", "csv")


def test_export_reads_while_a_writer_holds_the_lock(engine: Engine, store_path: Path) -> None:
    with session_scope(engine) as session:
        f.citizen(session)
    with session_scope(engine) as session:
        f.citizen(session)  # uncommitted while exporting
        rows = json.loads(_export(store_path, "citizens", "json"))
    assert len(rows) == 1


def test_every_model_table_is_exportable() -> None:
    assert set(exportable_tables()) == set(m.Base.metadata.tables)
