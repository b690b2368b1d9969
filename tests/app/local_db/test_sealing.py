from __future__ import annotations

import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.local_db.errors import SecretKeyMissing, SecretUnreadable
from app.local_db.sealing import SecretBox

PURPOSE = "site_identity.credential_secret"


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> SecretBox:
    return SecretBox.load_or_create(tmp_path_factory.mktemp("keys") / "site-secrets.key")


@settings(max_examples=50)
@given(st.binary(max_size=512))
def test_sealed_secrets_open_to_what_was_sealed(box: SecretBox, secret: bytes) -> None:
    sealed = box.seal(secret, purpose=PURPOSE)
    assert box.unseal(sealed, purpose=PURPOSE) == secret
    if len(secret) >= 4:
        assert secret not in sealed


def test_the_same_secret_seals_differently_each_time(box: SecretBox) -> None:
    assert box.seal(b"credential", purpose=PURPOSE) != box.seal(b"credential", purpose=PURPOSE)


def test_a_secret_sealed_for_one_purpose_does_not_open_for_another(box: SecretBox) -> None:
    sealed = box.seal(b"credential", purpose=PURPOSE)
    with pytest.raises(SecretUnreadable):
        box.unseal(sealed, purpose="site_identity.signer_private_key")


@pytest.mark.parametrize("position", [0, 5, 20, -1])
def test_altered_bytes_are_detected(box: SecretBox, position: int) -> None:
    sealed = bytearray(box.seal(b"credential", purpose=PURPOSE))
    sealed[position] ^= 0x01
    with pytest.raises(SecretUnreadable):
        box.unseal(bytes(sealed), purpose=PURPOSE)


def test_another_key_cannot_open_it(box: SecretBox, tmp_path: Path) -> None:
    other = SecretBox.load_or_create(tmp_path / "other.key")
    with pytest.raises(SecretUnreadable, match="call support"):
        other.unseal(box.seal(b"credential", purpose=PURPOSE), purpose=PURPOSE)


def test_the_key_file_is_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "data" / "site-secrets.key"
    first = SecretBox.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    sealed = first.seal(b"credential", purpose=PURPOSE)
    again = SecretBox.load_or_create(path)
    assert again.unseal(sealed, purpose=PURPOSE) == b"credential"
    assert [p.name for p in path.parent.iterdir()] == ["site-secrets.key"]


@pytest.mark.parametrize(
    "content", [None, b"", b"not a key file\n", b"imuno-site-secret-key v1\nAAAA\n"]
)
def test_a_missing_or_broken_key_file_is_reported(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "site-secrets.key"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SecretKeyMissing, match="enrolled again"):
        SecretBox.load(path)
