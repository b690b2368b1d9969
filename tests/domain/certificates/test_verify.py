"""Trust decisions on scanned certificates."""

from __future__ import annotations

import json
import pickle
import zlib
from datetime import timedelta
from importlib import resources
from typing import Any

import base45
import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycose.algorithms import Es256
from pycose.headers import KID, Algorithm
from pycose.keys.curves import P256
from pycose.keys.ec2 import EC2Key
from pycose.messages.cosemessage import CoseMessage
from pycose.messages.sign1message import Sign1Message

from domain.certificates import errors
from domain.certificates.codec import encode_certificate
from domain.certificates.cose import sign1
from domain.certificates.errors import (
    CertificateError,
    Expired,
    NotYetValid,
    Revoked,
    SchemaViolation,
    SignatureInvalid,
    SignerCertificateExpired,
    SignerCertificateNotYetValid,
    SignerCertificateRejected,
    SignerNotAuthorised,
    UnknownKeyId,
    VerificationError,
)
from domain.certificates.payload import PersonName
from domain.certificates.pki import EKU_TEST, Csca, DocumentSigner, key_id
from domain.certificates.transliterate import icao_transliterate
from domain.certificates.verify import TrustStore, verify
from domain.i18n import message

from .conftest import NOW, Site, enrol, hcert_for
from .test_codec import hc1

SERBIAN = "abcčćdđefghijklmnoprsštuvzžабвгдђежзијклљмнњопрстћуфхцчџш"


@pytest.fixture
def text(site: Site, hcert: dict[str, Any]) -> str:
    return encode_certificate(hcert, site.signer, issued_at=NOW)


def test_a_genuine_certificate_verifies(
    site: Site, other_site: Site, text: str, hcert: dict[str, Any]
) -> None:
    result = verify(
        text, [other_site.certificate_der, site.certificate_der], at=NOW + timedelta(days=30)
    )
    assert result.hcert == hcert
    assert result.kid == key_id(site.certificate_der)
    assert result.issuer == "RS"
    assert result.uvci == hcert["v"][0]["ci"]
    assert result.signature_valid
    assert result.signer.certificate_der == site.certificate_der
    assert result.claims.issued_at == NOW


def test_a_trust_store_can_be_built_once(site: Site, text: str) -> None:
    store = TrustStore([site.certificate_der, site.certificate_der])
    assert len(store) == 2
    assert verify(text, store, at=NOW).signature_valid


def test_pycose_verifies_our_certificate_with_the_key_from_the_signer_certificate(
    site: Site, text: str
) -> None:
    cose = zlib.decompress(base45.b45decode(text[4:]))
    message = CoseMessage.decode(cose)
    assert isinstance(message, Sign1Message)
    public = x509.load_der_x509_certificate(site.certificate_der).public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    numbers = public.public_numbers()
    message.key = EC2Key(crv=P256, x=numbers.x.to_bytes(32, "big"), y=numbers.y.to_bytes(32, "big"))
    assert message.verify_signature()
    assert message.payload is not None
    assert cbor2.loads(message.payload)[-260][1]["nam"]["fnt"] == "DORDEVIC"


def test_a_certificate_signed_by_pycose_verifies(site: Site, hcert: dict[str, Any]) -> None:
    claims = {1: "RS", 6: int(NOW.timestamp()), 4: int(NOW.timestamp()) + 3600, -260: {1: hcert}}
    numbers = site.key.private_numbers()
    message = Sign1Message(
        phdr={Algorithm: Es256, KID: site.signer.kid}, payload=cbor2.dumps(claims)
    )
    message.key = EC2Key(
        crv=P256,
        x=numbers.public_numbers.x.to_bytes(32, "big"),
        y=numbers.public_numbers.y.to_bytes(32, "big"),
        d=numbers.private_value.to_bytes(32, "big"),
    )
    result = verify(hc1(message.encode()), [site.certificate_der], at=NOW)
    assert result.hcert == hcert


def _tampered(text: str, change: Any) -> str:
    tagged = cbor2.loads(zlib.decompress(base45.b45decode(text[4:])))
    claims = cbor2.loads(tagged.value[2])
    change(claims)
    tagged.value[2] = cbor2.dumps(claims)
    return hc1(cbor2.dumps(tagged))


def test_a_payload_changed_after_signing_is_refused(site: Site, text: str) -> None:
    def rename(claims: dict[int, Any]) -> None:
        claims[-260][1]["nam"]["fn"] = "Петровић"
        claims[-260][1]["nam"]["fnt"] = "PETROVIC"

    with pytest.raises(SignatureInvalid) as raised:
        verify(_tampered(text, rename), [site.certificate_der], at=NOW)
    assert raised.value.signature_valid is False
    assert raised.value.decoded is not None
    assert raised.value.decoded.claims.hcert["nam"]["fnt"] == "PETROVIC"


def test_a_later_expiry_written_after_signing_is_refused(site: Site, text: str) -> None:
    def extend(claims: dict[int, Any]) -> None:
        claims[4] += 10 * 365 * 86400

    with pytest.raises(SignatureInvalid):
        verify(_tampered(text, extend), [site.certificate_der], at=NOW)


def test_a_certificate_signed_with_another_key_under_our_key_id_is_refused(
    site: Site, other_site: Site, hcert: dict[str, Any]
) -> None:
    impostor = DocumentSigner(
        key=other_site.key,
        certificate_der=site.certificate_der,
        kid=site.signer.kid,
        country="RS",
        not_before=site.signer.not_before,
        not_after=site.signer.not_after,
        may_sign_vaccinations=True,
    )
    forged = encode_certificate(hcert, impostor, issued_at=NOW)
    with pytest.raises(SignatureInvalid):
        verify(forged, [site.certificate_der, other_site.certificate_der], at=NOW)


def test_an_unknown_key_id_is_reported_with_the_id(site: Site, other_site: Site, text: str) -> None:
    with pytest.raises(UnknownKeyId) as raised:
        verify(text, [other_site.certificate_der], at=NOW)
    assert raised.value.params["kid"] == site.signer.kid.hex()
    assert site.signer.kid.hex() in message(raised.value, "sr-Cyrl")
    with pytest.raises(UnknownKeyId):
        verify(text, [], at=NOW)


def test_an_expired_certificate_is_genuine_but_expired(site: Site, text: str) -> None:
    expires = NOW + timedelta(days=365)
    assert verify(text, [site.certificate_der], at=expires + timedelta(minutes=4)).signature_valid
    with pytest.raises(Expired) as raised:
        verify(text, [site.certificate_der], at=expires + timedelta(days=1))
    assert raised.value.signature_valid is True
    assert raised.value.params["expired_on"] == expires.date().isoformat()
    assert raised.value.decoded is not None


def test_a_certificate_from_the_future_is_not_yet_valid(site: Site, text: str) -> None:
    assert verify(text, [site.certificate_der], at=NOW - timedelta(minutes=4)).signature_valid
    with pytest.raises(NotYetValid) as raised:
        verify(text, [site.certificate_der], at=NOW - timedelta(hours=1))
    assert raised.value.signature_valid is True
    with pytest.raises(NotYetValid):
        verify(text, [site.certificate_der], at=NOW - timedelta(minutes=1), leeway=timedelta(0))


def _sign_claims(site: Site, hcert: dict[str, Any], *, iat: int, exp: int) -> str:
    claims = {1: "RS", 6: iat, 4: exp, -260: {1: hcert}}
    return hc1(sign1(cbor2.dumps(claims), site.key, site.signer.kid))


def test_an_expired_signer_certificate(csca: Csca, hcert: dict[str, Any]) -> None:
    short = enrol(csca, "KG03", valid_days=30)
    # An issuer that broke the rule "a certificate never outlives its signer".
    text = _sign_claims(
        short,
        hcert,
        iat=int(NOW.timestamp()),
        exp=int((NOW + timedelta(days=365)).timestamp()),
    )
    after_signer = short.signer.not_after + timedelta(days=1)
    with pytest.raises(SignerCertificateExpired) as raised:
        verify(text, [short.certificate_der], at=after_signer)
    assert raised.value.signature_valid is True
    assert raised.value.params["not_after"] == short.signer.not_after.date().isoformat()


def test_a_certificate_signed_before_its_signer_was_valid(
    site: Site, hcert: dict[str, Any]
) -> None:
    iat = int((site.signer.not_before - timedelta(days=3)).timestamp())
    text = _sign_claims(site, hcert, iat=iat, exp=iat + 400 * 86400)
    with pytest.raises(SignerCertificateNotYetValid):
        verify(text, [site.certificate_der], at=NOW)


def _test_only_signer(csca: Csca) -> Site:
    key = ec.generate_private_key(ec.SECP256R1())
    der = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "test centre")]))
        .issuer_name(csca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=365))
        .add_extension(x509.ExtendedKeyUsage([EKU_TEST]), critical=False)
        .sign(csca.key, hashes.SHA256())
        .public_bytes(serialization.Encoding.DER)
    )
    return Site(key=key, certificate_der=der, signer=DocumentSigner.create(key, der))


def test_a_signer_for_test_certificates_cannot_vouch_for_vaccinations(
    csca: Csca, hcert: dict[str, Any]
) -> None:
    tester = _test_only_signer(csca)
    assert not tester.signer.may_sign_vaccinations
    with pytest.raises(SignerCertificateRejected):
        encode_certificate(hcert, tester.signer, issued_at=NOW)
    text = _sign_claims(tester, hcert, iat=int(NOW.timestamp()), exp=int(NOW.timestamp()) + 86400)
    with pytest.raises(SignerNotAuthorised):
        verify(text, [tester.certificate_der], at=NOW)


def test_a_signed_payload_that_breaks_the_schema(site: Site, hcert: dict[str, Any]) -> None:
    hcert["v"][0]["dt"] = "31.05.2021."
    text = _sign_claims(site, hcert, iat=int(NOW.timestamp()), exp=int(NOW.timestamp()) + 86400)
    with pytest.raises(SchemaViolation) as raised:
        verify(text, [site.certificate_der], at=NOW)
    assert raised.value.params["where"] == "/v/0/dt"
    assert raised.value.signature_valid is True


def test_a_revoked_certificate(site: Site, text: str, hcert: dict[str, Any]) -> None:
    uvci = hcert["v"][0]["ci"]
    for listed in (uvci, uvci.removeprefix("URN:UVCI:")):
        with pytest.raises(Revoked) as raised:
            verify(
                text, [site.certificate_der], at=NOW, revoked_uvcis={listed, "URN:UVCI:01:RS:X/Y#Z"}
            )
        assert raised.value.params["uvci"] == uvci
        assert raised.value.signature_valid is True
    assert verify(text, [site.certificate_der], at=NOW, revoked_uvcis={"URN:UVCI:01:RS:X/Y#Z"})


def test_the_validation_time_must_carry_a_timezone(site: Site, text: str) -> None:
    with pytest.raises(ValueError, match="timezone"):
        verify(text, [site.certificate_der], at=NOW.replace(tzinfo=None))


def test_without_a_time_the_clock_is_read(site: Site, text: str) -> None:
    # NOW + 365 days is long past: the certificate has expired by the real clock.
    with pytest.raises(Expired):
        verify(text, [site.certificate_der])


def test_errors_keep_the_decoded_certificate_across_processes(site: Site, text: str) -> None:
    with pytest.raises(Expired) as raised:
        verify(text, [site.certificate_der], at=NOW + timedelta(days=400))
    copy = pickle.loads(pickle.dumps(raised.value))
    assert isinstance(copy, Expired)
    assert copy.signature_valid is True
    assert copy.decoded == raised.value.decoded
    assert str(copy) == str(raised.value)


def _all_error_classes() -> list[type[CertificateError]]:
    found: list[type[CertificateError]] = []
    pending: list[type[CertificateError]] = [CertificateError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_every_error_has_a_serbian_text() -> None:
    folder = resources.files("domain") / "locale"
    serbian = json.loads((folder / "certificates.sr-Latn.json").read_text(encoding="utf-8"))
    classes = _all_error_classes()
    assert len(classes) >= 20
    for cls in classes:
        assert cls.code in serbian, cls.__name__
        assert set(_fields(cls.template)) == set(_fields(serbian[cls.code])), cls.__name__
    assert set(errors.__all__) >= {cls.__name__ for cls in classes}


def _fields(template: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


# --- properties ------------------------------------------------------------------------------


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    family=st.text(alphabet=SERBIAN + " -", min_size=1, max_size=30).filter(
        lambda s: s.strip(" -")
    ),
    given_name=st.text(alphabet=SERBIAN + " ", max_size=30),
)
def test_round_trip_of_any_serbian_name(site: Site, family: str, given_name: str) -> None:
    name = PersonName(family, given_name.strip())
    hcert = hcert_for(name)
    text = encode_certificate(hcert, site.signer, issued_at=NOW)
    result = verify(text, [site.certificate_der], at=NOW)
    assert result.hcert["nam"]["fn"] == family
    assert result.hcert["nam"]["fnt"] == icao_transliterate(family)
    if name.given:
        assert result.hcert["nam"]["gnt"] == icao_transliterate(name.given)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=200))
def test_any_text_gives_a_result_or_a_typed_error(site: Site, text: str) -> None:
    _only_typed_errors(text, site)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=300))
def test_any_bytes_behind_each_layer_give_only_typed_errors(site: Site, data: bytes) -> None:
    _only_typed_errors("HC1:" + base45.b45encode(data).decode(), site)
    _only_typed_errors(hc1(data), site)
    _only_typed_errors(hc1(sign1(data, site.key, site.signer.kid)), site)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_any_claims_signed_give_only_typed_errors(site: Site, data: st.DataObject) -> None:
    leaves = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats()
        | st.text(max_size=8)
        | st.binary(max_size=8)
    )
    value = st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.integers(-300, 10) | st.text(max_size=3), inner, max_size=4)
        ),
        max_leaves=12,
    )
    claims = data.draw(st.dictionaries(st.sampled_from([1, 4, 6, -260, 99]), value, max_size=5))
    if data.draw(st.booleans()):
        claims[-260] = {
            1: data.draw(st.dictionaries(st.sampled_from(["ver", "nam", "dob", "v"]), value))
        }
    _only_typed_errors(hc1(sign1(cbor2.dumps(claims), site.key, site.signer.kid)), site)


def _only_typed_errors(text: str, site: Site) -> None:
    """`verify` either succeeds or raises a `CertificateError` a person can read."""
    error: CertificateError | None = None
    try:
        verify(text, [site.certificate_der], at=NOW)
    except CertificateError as raised:
        error = raised
    if error is not None:
        assert message(error, "sr-Latn")
        assert not isinstance(error, VerificationError) or error.decoded is not None
