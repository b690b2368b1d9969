"""COSE_Sign1 with ES256, checked against pycose, an independent implementation."""

from __future__ import annotations

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from pycose.algorithms import Es256
from pycose.headers import KID, Algorithm
from pycose.keys.curves import P256
from pycose.keys.ec2 import EC2Key
from pycose.messages.cosemessage import CoseMessage
from pycose.messages.sign1message import Sign1Message

from domain.certificates.cose import parse_sign1, sign1, verify_sign1
from domain.certificates.errors import CborError, CoseError

KID_BYTES = b"\x01\x02\x03\x04\x05\x06\x07\x08"


def _pycose_key(key: ec.EllipticCurvePrivateKey, *, private: bool) -> EC2Key:
    numbers = key.private_numbers()
    public = numbers.public_numbers
    return EC2Key(
        crv=P256,
        x=public.x.to_bytes(32, "big"),
        y=public.y.to_bytes(32, "big"),
        d=numbers.private_value.to_bytes(32, "big") if private else b"",
    )


def test_pycose_verifies_what_we_sign() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    message = sign1(b"payload", key, KID_BYTES)
    decoded = CoseMessage.decode(message)
    assert isinstance(decoded, Sign1Message)
    assert decoded.phdr[Algorithm] is Es256
    assert decoded.phdr[KID] == KID_BYTES
    assert decoded.payload == b"payload"
    decoded.key = _pycose_key(key, private=False)
    assert decoded.verify_signature()


def test_we_verify_what_pycose_signs() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    message = Sign1Message(phdr={Algorithm: Es256, KID: KID_BYTES}, payload=b"claims")
    message.key = _pycose_key(key, private=True)
    parsed = parse_sign1(message.encode())
    assert parsed.kid == KID_BYTES
    assert parsed.payload == b"claims"
    assert verify_sign1(parsed, key.public_key())


def test_the_signature_is_raw_r_and_s() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    parsed = parse_sign1(sign1(b"x", key, KID_BYTES))
    assert len(parsed.signature) == 64


def test_another_key_does_not_verify() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    parsed = parse_sign1(sign1(b"x", key, KID_BYTES))
    assert not verify_sign1(parsed, ec.generate_private_key(ec.SECP256R1()).public_key())
    assert not verify_sign1(parsed, ec.generate_private_key(ec.SECP384R1()).public_key())


def test_signing_needs_a_p256_key() -> None:
    with pytest.raises(ValueError, match="P-256"):
        sign1(b"x", ec.generate_private_key(ec.SECP384R1()), KID_BYTES)


def _fields(message: bytes) -> list[object]:
    value = cbor2.loads(message).value
    assert isinstance(value, list)
    return value


def test_cwt_tagged_and_untagged_messages_are_read() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    message = sign1(b"x", key, KID_BYTES)
    tagged_cwt = cbor2.dumps(cbor2.CBORTag(61, cbor2.loads(message)))
    untagged = cbor2.dumps(_fields(message))
    for variant in (tagged_cwt, untagged):
        parsed = parse_sign1(variant)
        assert verify_sign1(parsed, key.public_key())


def test_a_key_id_in_the_unprotected_header_is_accepted() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    message = Sign1Message(phdr={Algorithm: Es256}, uhdr={KID: KID_BYTES}, payload=b"claims")
    message.key = _pycose_key(key, private=True)
    parsed = parse_sign1(message.encode())
    assert parsed.kid == KID_BYTES
    assert verify_sign1(parsed, key.public_key())


def test_the_content_type_travels_in_the_protected_header() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    parsed = parse_sign1(sign1(b"x", key, KID_BYTES, content_type="application/x-test"))
    assert parsed.content_type == "application/x-test"


@pytest.mark.parametrize(
    ("message", "detail"),
    [
        (cbor2.dumps(cbor2.CBORTag(98, [])), "tag 98"),
        (cbor2.dumps({"not": "cose"}), "four items"),
        (cbor2.dumps([b"", {}, b"", b""]), "algorithm"),
        (cbor2.dumps([cbor2.dumps({1: -37, 4: KID_BYTES}), {}, b"", b""]), "not ES256"),
        (cbor2.dumps([cbor2.dumps({1: -7}), {}, b"", b""]), "no key id"),
        (cbor2.dumps(["text", {}, b"", b""]), "protected header"),
        (cbor2.dumps([cbor2.dumps([1]), {}, b"", b""]), "not a map"),
        (cbor2.dumps([cbor2.dumps({1: -7, 4: KID_BYTES}), [], b"", b""]), "unprotected"),
        (cbor2.dumps([cbor2.dumps({1: -7, 4: KID_BYTES}), {}, None, b""]), "detached"),
        (cbor2.dumps([cbor2.dumps({1: -7, 4: KID_BYTES}), {}, b"", "sig"]), "signature"),
    ],
)
def test_cbor_that_is_not_an_es256_cose_sign1(message: bytes, detail: str) -> None:
    with pytest.raises(CoseError) as raised:
        parse_sign1(message)
    assert detail in raised.value.params["detail"]
    assert raised.value.stage == "cose"


@pytest.mark.parametrize("data", [b"", b"\xff", b"\x84\x40", b"\xd2\x84\x40\xa0\x40\x40\x00"])
def test_bytes_that_are_not_one_cbor_item(data: bytes) -> None:
    with pytest.raises(CborError) as raised:
        parse_sign1(data)
    assert raised.value.stage == "cbor"
