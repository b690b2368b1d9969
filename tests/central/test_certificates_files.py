"""Key files, list ages and QR input: the file-level pieces of the certificate code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from central.certificates.errors import InputUnreadable, NoQrCode
from central.certificates.key_files import create_exclusive, read_key_file
from central.certificates.qr_input import read_qr_text
from central.certificates.saved_lists import describe_age

T0 = datetime(2021, 6, 1, 8, 0, tzinfo=UTC)


def test_a_key_file_is_written_once_owner_only_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "var" / "key.pem"

    first = create_exclusive(path, b"first")
    second = create_exclusive(path, b"second")

    assert (first, second, read_key_file(path)) == (b"first", b"first", b"first")
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["key.pem"]
    assert read_key_file(tmp_path / "absent.pem") is None


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650)))
def test_every_age_is_described_in_whole_units(age: timedelta) -> None:
    text = describe_age(T0, T0 + age)
    assert text.endswith(" old")
    if age >= timedelta(days=1):
        assert f"{age.days} day" in text


def test_an_age_from_the_future_points_at_the_clock() -> None:
    assert "clock" in describe_age(T0, T0 - timedelta(minutes=1))


def test_qr_text_is_taken_as_given_and_files_must_be_readable(tmp_path: Path) -> None:
    saved = tmp_path / "qr.txt"
    saved.write_text("HC1:NCFOXN%TS3DH3ZSUZK+.V0ETD%65NL-AH\n")

    assert read_qr_text("HC1:ABC") == "HC1:ABC"
    assert read_qr_text(str(saved)) == "HC1:NCFOXN%TS3DH3ZSUZK+.V0ETD%65NL-AH"
    with pytest.raises(InputUnreadable):
        read_qr_text(str(tmp_path / "missing.png"))
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(InputUnreadable):
        read_qr_text(str(tmp_path / "notes.txt"))


def test_an_image_without_a_qr_code_says_so(tmp_path: Path) -> None:
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.new("L", (200, 200), 255).save(blank)
    with pytest.raises(NoQrCode):
        read_qr_text(str(blank))
