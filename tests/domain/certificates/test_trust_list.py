"""The hub's signed trust list and revocation list."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import cbor2
import pytest

from domain.certificates.codec import encode_certificate
from domain.certificates.cose import sign1
from domain.certificates.errors import (
    RevocationListInvalid,
    Revoked,
    SignedListInvalid,
    TrustListInvalid,
)
from domain.certificates.pki import Csca, create_csca, key_id
from domain.certificates.trust_list import (
    REVOCATION_LIST_CONTENT_TYPE,
    TRUST_LIST_CONTENT_TYPE,
    TrustListEntry,
    sign_revocation_list,
    sign_trust_list,
    verify_revocation_list,
    verify_trust_list,
)
from domain.certificates.verify import verify
from domain.i18n import message

from .conftest import NOW, Site, enrol


@pytest.fixture
def entries(site: Site, other_site: Site) -> list[TrustListEntry]:
    return [
        TrustListEntry.for_certificate(site.certificate_der, "NS01"),
        TrustListEntry.for_certificate(other_site.certificate_der, "BG07"),
    ]


def test_a_trust_list_round_trip(csca: Csca, entries: list[TrustListEntry]) -> None:
    data = sign_trust_list(entries, csca, sequence=7, issued_at=NOW)
    trust = verify_trust_list(data, csca.certificate_der, min_sequence=7)
    assert trust.entries == tuple(entries)
    assert trust.sequence == 7
    assert trust.country == "RS"
    assert trust.issued_at == NOW
    assert trust.certificates() == tuple(entry.certificate_der for entry in entries)


def test_a_certificate_verifies_against_the_published_list(
    csca: Csca, site: Site, entries: list[TrustListEntry], hcert: dict[str, Any]
) -> None:
    trust = verify_trust_list(
        sign_trust_list(entries, csca, sequence=1, issued_at=NOW), csca.certificate_der
    )
    text = encode_certificate(hcert, site.signer, issued_at=NOW)
    assert verify(text, trust.store(), at=NOW).kid == key_id(site.certificate_der)


def test_the_list_is_bound_to_its_signature(csca: Csca, entries: list[TrustListEntry]) -> None:
    data = bytearray(sign_trust_list(entries, csca, sequence=1, issued_at=NOW))
    position = data.index(b"BG07")
    data[position] = ord("X")
    with pytest.raises(TrustListInvalid, match="signature"):
        verify_trust_list(bytes(data), csca.certificate_der)


def test_a_list_signed_by_another_authority_is_refused(entries: list[TrustListEntry]) -> None:
    stranger = create_csca(now=NOW - timedelta(days=1))
    mine = create_csca(now=NOW - timedelta(days=1))
    data = sign_trust_list(entries, stranger, sequence=1, issued_at=NOW)
    with pytest.raises(TrustListInvalid, match="not signed by"):
        verify_trust_list(data, mine.certificate_der)


def test_a_list_with_our_key_id_but_another_key_is_refused(
    csca: Csca, entries: list[TrustListEntry]
) -> None:
    stranger = create_csca(now=NOW - timedelta(days=1))
    payload = cbor2.loads(
        cbor2.loads(sign_trust_list(entries, csca, sequence=1, issued_at=NOW)).value[2]
    )
    forged = sign1(
        cbor2.dumps(payload), stranger.key, csca.kid, content_type=TRUST_LIST_CONTENT_TYPE
    )
    with pytest.raises(TrustListInvalid, match="signature"):
        verify_trust_list(forged, csca.certificate_der)


def test_a_signer_the_csca_did_not_issue_is_refused(csca: Csca, site: Site) -> None:
    foreign = enrol(create_csca(now=NOW - timedelta(days=5)), "EVIL")
    entries = [
        TrustListEntry.for_certificate(site.certificate_der, "NS01"),
        TrustListEntry.for_certificate(foreign.certificate_der, "EVIL"),
    ]
    with pytest.raises(TrustListInvalid, match="signer 2 \\(EVIL\\)"):
        verify_trust_list(
            sign_trust_list(entries, csca, sequence=1, issued_at=NOW), csca.certificate_der
        )


def test_a_signer_under_a_wrong_key_id_is_refused(csca: Csca, site: Site, other_site: Site) -> None:
    entries = [
        TrustListEntry(
            kid=key_id(other_site.certificate_der),
            certificate_der=site.certificate_der,
            site="NS01",
        )
    ]
    with pytest.raises(TrustListInvalid, match="wrong key id"):
        verify_trust_list(
            sign_trust_list(entries, csca, sequence=1, issued_at=NOW), csca.certificate_der
        )


def test_an_older_list_replayed_is_refused(csca: Csca, entries: list[TrustListEntry]) -> None:
    data = sign_trust_list(entries, csca, sequence=4, issued_at=NOW)
    assert verify_trust_list(data, csca.certificate_der, min_sequence=4).sequence == 4
    with pytest.raises(TrustListInvalid, match="older") as raised:
        verify_trust_list(data, csca.certificate_der, min_sequence=5)
    assert "4" in message(raised.value, "sr-Latn")


def test_a_revocation_list_round_trip(csca: Csca) -> None:
    data = sign_revocation_list(
        ["URN:UVCI:01:RS:B/2#K", "URN:UVCI:01:RS:A/1#K", "URN:UVCI:01:RS:A/1#K"],
        csca,
        sequence=3,
        issued_at=NOW,
    )
    revocations = verify_revocation_list(data, csca.certificate_der, min_sequence=2)
    assert revocations.uvcis == {"URN:UVCI:01:RS:A/1#K", "URN:UVCI:01:RS:B/2#K"}
    assert cbor2.loads(cbor2.loads(data).value[2])["uvcis"] == [
        "URN:UVCI:01:RS:A/1#K",
        "URN:UVCI:01:RS:B/2#K",
    ]


def test_a_revoked_certificate_is_refused_through_the_list(
    csca: Csca, site: Site, hcert: dict[str, Any]
) -> None:
    uvci = hcert["v"][0]["ci"]
    revocations = verify_revocation_list(
        sign_revocation_list([uvci], csca, sequence=1, issued_at=NOW), csca.certificate_der
    )
    text = encode_certificate(hcert, site.signer, issued_at=NOW)
    with pytest.raises(Revoked):
        verify(text, [site.certificate_der], at=NOW, revoked_uvcis=revocations.uvcis)


def test_one_kind_of_list_cannot_pass_for_the_other(
    csca: Csca, entries: list[TrustListEntry]
) -> None:
    trust = sign_trust_list(entries, csca, sequence=1, issued_at=NOW)
    revocations = sign_revocation_list([], csca, sequence=1, issued_at=NOW)
    with pytest.raises(RevocationListInvalid, match="different kind"):
        verify_revocation_list(trust, csca.certificate_der)
    with pytest.raises(TrustListInvalid, match="different kind"):
        verify_trust_list(revocations, csca.certificate_der)
    # Same content type, but the payload says it is the other kind.
    payload = cbor2.loads(cbor2.loads(trust).value[2])
    relabelled = sign1(
        cbor2.dumps(payload), csca.key, csca.kid, content_type=REVOCATION_LIST_CONTENT_TYPE
    )
    with pytest.raises(RevocationListInvalid, match="different kind"):
        verify_revocation_list(relabelled, csca.certificate_der)


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"kind": "dcc-trust-list", "version": 2},
        {"kind": "dcc-trust-list", "version": 1, "country": "RS", "sequence": "1", "issued_at": 0},
        {"kind": "dcc-trust-list", "version": 1, "country": "RS", "sequence": 1, "issued_at": 0},
        {
            "kind": "dcc-trust-list",
            "version": 1,
            "country": "RS",
            "sequence": 1,
            "issued_at": 0,
            "signers": [1],
        },
        {
            "kind": "dcc-trust-list",
            "version": 1,
            "country": "RS",
            "sequence": 1,
            "issued_at": 10**30,
            "signers": [],
        },
    ],
)
def test_malformed_lists_are_refused(csca: Csca, payload: object) -> None:
    data = sign1(cbor2.dumps(payload), csca.key, csca.kid, content_type=TRUST_LIST_CONTENT_TYPE)
    with pytest.raises(TrustListInvalid):
        verify_trust_list(data, csca.certificate_der)


@pytest.mark.parametrize("data", [b"", b"garbage", cbor2.dumps([1, 2, 3, 4])])
def test_bytes_that_are_no_signed_list(csca: Csca, data: bytes) -> None:
    with pytest.raises(SignedListInvalid):
        verify_trust_list(data, csca.certificate_der)
    with pytest.raises(SignedListInvalid):
        verify_revocation_list(data, csca.certificate_der)
