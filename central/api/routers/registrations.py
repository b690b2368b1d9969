"""Registrations of interest: the public intake the citizens' portal calls."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Response

from central.api.deps import HubDep, RequestId, anonymous
from central.api.errors import responses
from central.services import registrations
from domain.wire import RegistrationRequest, RegistrationView

router = APIRouter(
    prefix="/v1/registrations", tags=["registrations"], dependencies=[Depends(anonymous)]
)


@router.post(
    "",
    response_model=RegistrationView,
    status_code=201,
    responses={
        200: {
            "model": RegistrationView,
            "description": "The person was registered already: updated.",
        },
        **responses(400, 426),
    },
    summary="Register interest in vaccination",
)
def register(
    body: RegistrationRequest, hub: HubDep, response: Response, request_id: RequestId
) -> RegistrationView:
    """Register a person (201), or update them if their JMBG is registered (200).

    Validated with the vaccination rules in force; every problem is answered
    with its own entry in ``error.fields``.
    """
    view, created = registrations.register(hub, body, request_id=request_id)
    response.status_code = 201 if created else 200
    return view


@router.get(
    "/{registration_id}",
    response_model=RegistrationView,
    responses=responses(400, 404, 426),
    summary="Read a registration",
)
def get_registration(registration_id: uuid.UUID, hub: HubDep) -> RegistrationView:
    """The registration and the person's current details (JMBG masked)."""
    return registrations.get_registration(hub, registration_id)


@router.delete(
    "/{registration_id}",
    response_model=RegistrationView,
    responses=responses(400, 404, 426),
    summary="Withdraw a registration",
)
def withdraw(registration_id: uuid.UUID, hub: HubDep, request_id: RequestId) -> RegistrationView:
    """Withdraw: the person is not booked any more and their coming appointments
    are cancelled. Withdrawing again changes nothing."""
    return registrations.withdraw(hub, registration_id, request_id=request_id)
