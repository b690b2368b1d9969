"""Every certificate error a nurse can see has a Serbian text with the same fields."""

from __future__ import annotations

import string

import pytest

from app.services import certificate_errors, verification
from app.sync import certificate_lists
from domain.errors import DomainError
from domain.i18n import translate

ERRORS = [
    *(getattr(certificate_errors, name) for name in certificate_errors.__all__),
    verification.CertificateFileUnreadable,
    verification.NoQrCodeFound,
    certificate_lists.CertificateListsRefused,
    certificate_lists.CscaNotPinned,
]


def _fields(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


@pytest.mark.parametrize("error", ERRORS, ids=lambda error: error.code)
def test_serbian_text_exists_with_the_same_fields(error: type[DomainError]) -> None:
    params = {field: f"<{field}>" for field in _fields(error.template)}
    serbian = translate(error.code, "sr-Latn", "MISSING", **params)
    assert serbian != "MISSING"
    assert all(value in serbian for value in params.values())
    assert translate(error.code, "sr-Cyrl", "MISSING", **params) != serbian
