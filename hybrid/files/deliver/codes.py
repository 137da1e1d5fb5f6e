"""Identification codes on a CD: ISRC per track, UPC/EAN per disc.

Both go into the PQ subcode and the DDP image as given, so a typo reaches every
pressed disc: they are checked here, with the reason spelled out.
"""

from __future__ import annotations

import re

_ISRC = re.compile(r"^([A-Z]{2})-?([A-Z0-9]{3})-?([0-9]{2})-?([0-9]{5})$")


def normalize_isrc(text: str) -> str:
    """``"GB-XYZ-24-00001"`` or ``"GBXYZ2400001"`` -> ``"GBXYZ2400001"``; ValueError otherwise.

    ISO 3901: country code (2 letters), registrant (3 letters or digits), year (2
    digits), designation (5 digits); dashes are for people only.
    """
    if not isinstance(text, str):
        raise ValueError("expected a string CC-XXX-YY-NNNNN")
    match = _ISRC.match(text.strip().upper())
    if not match:
        raise ValueError(f"{text!r} is not an ISRC: expected CC-XXX-YY-NNNNN (country 2 letters, "
                         "registrant 3 letters/digits, year 2 digits, 5 digits)")
    return "".join(match.groups())


def format_isrc(compact: str) -> str:
    return f"{compact[:2]}-{compact[2:5]}-{compact[5:7]}-{compact[7:]}"


def ean13_check_digit(first12: str) -> int:
    """GS1 check digit: weights 1, 3, 1, 3 ... from the left over the first 12 digits."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def normalize_upc(text: str) -> str:
    """A 13-digit EAN-13 or a 12-digit UPC-A (written as EAN-13 with a leading 0, the
    form the PQ subcode carries); ValueError with the expected check digit otherwise."""
    if not isinstance(text, str):
        raise ValueError("expected a string of 12 (UPC-A) or 13 (EAN-13) digits")
    digits = re.sub(r"[\s-]", "", text)
    if not digits.isdigit() or len(digits) not in (12, 13):
        raise ValueError(f"{text!r}: expected 12 (UPC-A) or 13 (EAN-13) digits")
    ean = digits if len(digits) == 13 else "0" + digits
    expected = ean13_check_digit(ean[:12])
    if int(ean[12]) != expected:
        raise ValueError(f"{text!r}: check digit is {ean[12]}, expected {expected}")
    return ean
