"""The HC1 text: writing it, and every stage of reading a broken one."""

from __future__ import annotations

import zlib
from datetime import timedelta
from typing import Any

import base45
import cbor2
import pytest

from domain.certificates.codec import (
    MAX_DECOMPRESSED,
    decode_certificate,
    encode_certificate,
)
from domain.certificates.cose import sign1
from domain.certificates.errors import (
    Base45Error,
    CborError,
    CoseError,
    DecodeError,
    PrefixError,
    SchemaViolation,
    SignerCertificateRejected,
    ZlibError,
)
from domain.certificates.pki import DocumentSigner, key_id
from domain.i18n import message

from .conftest import NOW, Site


def hc1(data: bytes) -> str:
    """`data` compressed and base45-encoded behind the HC1 prefix."""
    encoded: bytes = base45.b45encode(zlib.compress(data))
    return "HC1:" + encoded.decode()


def test_a_certificate_reads_back(site: Site, hcert: dict[str, Any]) -> None:
    text = encode_certificate(hcert, site.signer, issued_at=NOW)
    assert text.startswith("HC1:")
    decoded = decode_certificate(text)
    assert decoded.kid == key_id(site.certificate_der) == site.signer.kid
    assert decoded.claims.hcert == hcert
    assert decoded.claims.issuer == "RS"
    assert decoded.claims.issued_at == NOW
    assert decoded.claims.expires_at == NOW + timedelta(days=365)
    assert decoded.message.protected_header == {1: -7, 4: site.signer.kid}


def test_the_layers_are_zlib_cose_and_cwt(site: Site, hcert: dict[str, Any]) -> None:
    text = encode_certificate(hcert, site.signer, issued_at=NOW)
    cose = zlib.decompress(base45.b45decode(text[4:]))
    tagged = cbor2.loads(cose)
    assert tagged.tag == 18
    claims = cbor2.loads(tagged.value[2])
    assert set(claims) == {1, 4, 6, -260}
    assert claims[-260] == {1: hcert}


def test_the_expiry_never_outlives_the_signer(csca: Any, hcert: dict[str, Any]) -> None:
    from .conftest import enrol

    short = enrol(csca, "SU02", valid_days=30)
    text = encode_certificate(hcert, short.signer, issued_at=NOW, valid_for=timedelta(days=365))
    assert decode_certificate(text).claims.expires_at == short.signer.not_after


def test_a_payload_that_breaks_the_schema_is_not_signed(site: Site, hcert: dict[str, Any]) -> None:
    hcert["v"][0]["dn"] = 0
    with pytest.raises(SchemaViolation):
        encode_certificate(hcert, site.signer, issued_at=NOW)


def test_a_site_cannot_sign_with_an_expired_key(site: Site, hcert: dict[str, Any]) -> None:
    with pytest.raises(SignerCertificateRejected) as raised:
        encode_certificate(
            hcert, site.signer, issued_at=site.signer.not_after + timedelta(seconds=1)
        )
    assert "expired" in raised.value.params["problem"]
    with pytest.raises(SignerCertificateRejected):
        encode_certificate(hcert, site.signer, issued_at=site.signer.not_before - timedelta(days=1))


def test_issued_at_must_carry_a_timezone(site: Site, hcert: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="timezone"):
        encode_certificate(hcert, site.signer, issued_at=NOW.replace(tzinfo=None))


def test_a_scanner_s_line_end_is_ignored(site: Site, hcert: dict[str, Any]) -> None:
    text = encode_certificate(hcert, site.signer, issued_at=NOW)
    assert decode_certificate(text + "\r\n").claims.hcert == hcert


# --- every stage of a broken QR --------------------------------------------------------------


def _claims(site: Site, hcert: dict[str, Any]) -> dict[int, Any]:
    return {1: "RS", 6: int(NOW.timestamp()), 4: int(NOW.timestamp()) + 86400, -260: {1: hcert}}


def _signed(site: Site, claims: object) -> str:
    return hc1(sign1(cbor2.dumps(claims), site.key, site.signer.kid))


@pytest.fixture
def good(site: Site, hcert: dict[str, Any]) -> str:
    return encode_certificate(hcert, site.signer, issued_at=NOW)


@pytest.mark.parametrize(
    ("make", "error", "stage"),
    [
        (lambda good, site, hcert: good[4:], PrefixError, "prefix"),
        (lambda good, site, hcert: "HC2:" + good[4:], PrefixError, "prefix"),
        (lambda good, site, hcert: "hc1:" + good[4:], PrefixError, "prefix"),
        (lambda good, site, hcert: "", PrefixError, "prefix"),
        (lambda good, site, hcert: good + "~", Base45Error, "base45"),
        (
            lambda good, site, hcert: good[:-1] if len(good[4:]) % 3 == 2 else good[:-2],
            Base45Error,
            "base45",
        ),
        (lambda good, site, hcert: good[:4] + "ZZZ" + good[7:], Base45Error, "base45"),
        (lambda good, site, hcert: "HC1:" + good[4:].lower(), Base45Error, "base45"),
        (
            lambda good, site, hcert: "HC1:" + base45.b45encode(b"not zlib").decode(),
            ZlibError,
            "zlib",
        ),
        (
            lambda good, site, hcert: (
                "HC1:" + base45.b45encode(zlib.compress(b"x" * 500)[:-6]).decode()
            ),
            ZlibError,
            "zlib",
        ),
        (
            lambda good, site, hcert: (
                "HC1:" + base45.b45encode(zlib.compress(b"x") + b"!").decode()
            ),
            ZlibError,
            "zlib",
        ),
        (lambda good, site, hcert: hc1(b"\0" * (MAX_DECOMPRESSED + 1)), ZlibError, "zlib"),
        (lambda good, site, hcert: "HC1:", ZlibError, "zlib"),
        (lambda good, site, hcert: hc1(b"\xff\xfe\xfd"), CborError, "cbor"),
        (lambda good, site, hcert: hc1(cbor2.dumps([1, 2]) + b"\x00"), CborError, "cbor"),
        (lambda good, site, hcert: hc1(cbor2.dumps({"a": 1})), CoseError, "cose"),
        (
            lambda good, site, hcert: hc1(cbor2.dumps(cbor2.CBORTag(98, [b"", {}, b"", []]))),
            CoseError,
            "cose",
        ),
        (
            lambda good, site, hcert: hc1(cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b"", b""]))),
            CoseError,
            "cose",
        ),
        (lambda good, site, hcert: _signed(site, [1, 2, 3]), CborError, "cbor"),
        (lambda good, site, hcert: _signed(site, {1: "RS", 4: 1, 6: 1}), CborError, "cbor"),
        (
            lambda good, site, hcert: _signed(site, {**_claims(site, hcert), -260: {2: hcert}}),
            CborError,
            "cbor",
        ),
        (
            lambda good, site, hcert: _signed(site, {**_claims(site, hcert), 4: "tomorrow"}),
            CborError,
            "cbor",
        ),
        (
            lambda good, site, hcert: _signed(site, {**_claims(site, hcert), 6: 10**30}),
            CborError,
            "cbor",
        ),
        (
            lambda good, site, hcert: _signed(site, {**_claims(site, hcert), 1: 688}),
            CborError,
            "cbor",
        ),
        (
            lambda good, site, hcert: _signed(site, {**_claims(site, hcert), 6: True}),
            CborError,
            "cbor",
        ),
        (
            lambda good, site, hcert: hc1(sign1(b"\xff\xff", site.key, site.signer.kid)),
            CborError,
            "cbor",
        ),
    ],
)
def test_each_broken_stage_is_named(
    make: Any,
    error: type[DecodeError],
    stage: str,
    good: str,
    site: Site,
    hcert: dict[str, Any],
) -> None:
    with pytest.raises(error) as raised:
        decode_certificate(make(good, site, hcert))
    assert raised.value.stage == stage
    assert raised.value.code == f"certificate.decode.{stage}"
    assert message(raised.value, "sr-Latn") != raised.value.template
    assert message(raised.value, "sr-Cyrl")


def test_the_signer_pairs_only_its_own_key(site: Site, other_site: Site) -> None:
    with pytest.raises(SignerCertificateRejected):
        DocumentSigner.create(other_site.key, site.certificate_der)
