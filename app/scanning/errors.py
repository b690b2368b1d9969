"""Errors of scanning a person can read: unrecognised codes and camera trouble.

Problems inside a recognised code (a JMBG with a wrong check digit, a GS1
label with a dropped separator, a bad MRZ check digit) keep the domain
parsers' own errors (`domain.jmbg`, `domain.gs1`, `domain.mrz`); the errors
here cover what no parser owns: text that is none of the codes the site
reads, a damaged appointment code, and a camera that cannot be used.
"""

from __future__ import annotations

from typing import ClassVar

from domain.errors import DomainError

__all__ = [
    "AppointmentCodeInvalid",
    "CameraError",
    "CameraLost",
    "CameraUnavailable",
    "DecoderUnavailable",
    "ScanEmpty",
    "ScanError",
    "ScanKeyboardLayout",
    "ScanNotRecognised",
]


class ScanError(DomainError):
    """A scan that cannot be used."""

    code: ClassVar[str] = "scan.invalid"
    template: ClassVar[str] = "The code could not be read. Scan it again."


class ScanEmpty(ScanError):
    """The scanner sent nothing but Enter (or blanks)."""

    code: ClassVar[str] = "scan.empty"
    template: ClassVar[str] = (
        "The scanner sent an empty code. Hold the code steady in front of the scanner "
        "and scan again."
    )


class ScanNotRecognised(ScanError):
    """Text that is no code the site reads."""

    code: ClassVar[str] = "scan.not_recognised"
    template: ClassVar[str] = (
        "The scanned code ({preview}) is not a JMBG, an ID document, an appointment code, "
        "a vaccine label or a certificate. Scan the right code, or type the JMBG by hand."
    )


class ScanKeyboardLayout(ScanError):
    """Serbian or Cyrillic letters in a scan: the keyboard layout rewrote the scanner's keys."""

    code: ClassVar[str] = "scan.keyboard_layout"
    template: ClassVar[str] = (
        "The scan arrived with Serbian letters (character {position}), so the computer's "
        "keyboard is set to a Serbian layout and the scanner's characters are being changed. "
        "Switch the keyboard to English (US) and scan again."
    )


class AppointmentCodeInvalid(ScanError):
    """An imuno appointment QR code whose appointment id is damaged."""

    code: ClassVar[str] = "scan.appointment_code_invalid"
    template: ClassVar[str] = (
        "This is an appointment code, but the code number in it is damaged ('{code}'). "
        "Find the person by scanning their ID card or typing their JMBG."
    )


class CameraError(ScanError):
    """The camera cannot deliver pictures."""

    code: ClassVar[str] = "scan.camera"
    template: ClassVar[str] = (
        "The camera does not work. Use the hand scanner, or choose another camera in settings."
    )


class CameraUnavailable(CameraError):
    """No camera could be opened (none attached, in use, or no permission)."""

    code: ClassVar[str] = "scan.camera_unavailable"
    template: ClassVar[str] = (
        "No camera could be opened ({source}). Check that the camera is plugged in and not "
        "used by another program, or choose another camera in settings. The hand scanner "
        "keeps working."
    )


class CameraLost(CameraError):
    """A camera that worked stopped delivering pictures."""

    code: ClassVar[str] = "scan.camera_lost"
    template: ClassVar[str] = (
        "The camera ({source}) stopped sending pictures. Check its cable, then turn camera "
        "scanning off and on again. The hand scanner keeps working."
    )


class DecoderUnavailable(ScanError):
    """A barcode decoding library is missing from this installation."""

    code: ClassVar[str] = "scan.decoder_unavailable"
    template: ClassVar[str] = (
        "The barcode reader {name} is not installed on this computer ({problem}). "
        "Use the hand scanner and tell the site manager."
    )
