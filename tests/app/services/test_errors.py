"""Service errors carry reasons as codes and params, put into words in the reader's language."""

from __future__ import annotations

import pickle
import re
from datetime import date

import pytest

from app.services import errors
from app.services.walk_in import WalkInPerson, book_walk_in
from domain import i18n
from domain.errors import DomainError
from tests.app.services.site import NURSE, ClinicSite, new_jmbg

LATIN_LETTERS = re.compile(r"[A-Za-zČčĆćŽžŠšĐđ]")


def too_young() -> WalkInPerson:
    return WalkInPerson(
        given_name="Dragan",
        family_name="Nikolić",
        municipality_code="70092",
        priority_group="general",
        jmbg=new_jmbg(2, born=date(2008, 1, 1)),
    )


def refused(clinic: ClinicSite) -> errors.NotEligible:
    with pytest.raises(errors.NotEligible) as raised:
        book_walk_in(clinic.engine, clinic.clock, NURSE, too_young(), "comirnaty")
    return raised.value


def test_a_refused_walk_in_carries_its_reasons_as_codes_and_params(clinic: ClinicSite) -> None:
    error = refused(clinic)
    by_code = {reason.code: reason for reason in error.reasons}
    assert "eligibility.too_young" in by_code
    assert by_code["eligibility.too_young"].params["age"] == 13
    assert all(reason.blocking for reason in error.reasons)


def test_the_reasons_read_in_cyrillic_when_the_message_is_shown_in_cyrillic(
    clinic: ClinicSite,
) -> None:
    error = refused(clinic)
    cyrillic = errors.message(error, "sr-Cyrl")
    assert cyrillic.startswith("Особа данас не може да прими Comirnaty")
    for reason in error.reasons:
        assert reason.text("sr-Cyrl") in cyrillic
    # Only the product's brand name stays in Latin letters.
    assert LATIN_LETTERS.findall(cyrillic.replace("Comirnaty", "")) == []
    latin = errors.message(error, "sr-Latn")
    assert all(reason.text("sr-Latn") in latin for reason in error.reasons)
    english = errors.message(error, "en")
    assert english == str(error)
    assert all(reason.text("en") in english for reason in error.reasons)


def test_callers_of_the_params_and_of_domain_i18n_read_as_before(clinic: ClinicSite) -> None:
    error = refused(clinic)
    assert error.params["reasons"] == " ".join(r.text("en") for r in error.reasons)
    assert error.params["reasons_sr"] == " ".join(r.text("sr-Latn") for r in error.reasons)
    assert i18n.message(error, "sr-Latn") == errors.message(error, "sr-Latn")
    assert i18n.message(error, "en") == errors.message(error, "en")


def test_a_closed_appointments_status_is_translated_with_the_message() -> None:
    error = errors.AppointmentClosed(**errors.status_params("no_show"))
    assert "already no show" in errors.message(error, "en")
    assert "označen kao nedolazak" in errors.message(error, "sr-Latn")
    assert "означен као недолазак" in errors.message(error, "sr-Cyrl")
    assert error.params["status_sr"] == "označen kao nedolazak"


def test_a_wrong_walk_in_field_is_named_in_the_readers_script() -> None:
    error = errors.invalid("birth_date", "disagrees_with_jmbg")
    assert errors.message(error, "en") == (
        "The walk-in's date of birth is wrong: it does not agree with the JMBG. Correct it."
    )
    assert errors.message(error, "sr-Cyrl") == (
        "Податак „датум рођења“ није исправан: не слаже се са ЈМБГ-ом. Исправите га."
    )


def test_a_list_of_terms_is_one_param_in_the_readers_language() -> None:
    missing = errors.Terms(
        (
            errors.Term("clinical.field.birth_date", "date of birth"),
            errors.Term("clinical.field.sex", "sex"),
        )
    )
    error = errors.LabelIncomplete(missing=missing)
    assert "no date of birth, sex." in str(error)
    assert "датум рођења, пол" in errors.message(error, "sr-Cyrl")


def test_an_error_survives_pickling_with_its_reasons(clinic: ClinicSite) -> None:
    error = refused(clinic)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is errors.NotEligible
    assert copy.reasons == error.reasons
    assert errors.message(copy, "sr-Cyrl") == errors.message(error, "sr-Cyrl")


def test_any_other_domain_error_reads_as_domain_i18n_gives_it() -> None:
    class Other(DomainError):
        code = "test.other"
        template = "Value {value} is wrong."

    assert errors.message(Other(value=3), "sr-Cyrl") == i18n.message(Other(value=3), "sr-Cyrl")
