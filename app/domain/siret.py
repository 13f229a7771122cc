"""The SIRET, the French establishment identifier: 14 digits with a Luhn checksum."""

from __future__ import annotations

from app.domain.errors import InvalidInput

SIRET_LENGTH = 14


def luhn_valid(digits: str) -> bool:
    """True when the decimal string `digits` passes the Luhn checksum."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - ord("0")
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def siret(value: str, field: str = "siret") -> str:
    """`value` if it is a SIRET (exactly 14 ASCII digits, Luhn-valid), else 422 naming `field`."""
    # str.isdigit accepts other scripts' digits (Arabic-Indic ones): only ASCII 0-9 make a SIRET.
    if len(value) != SIRET_LENGTH or not all("0" <= c <= "9" for c in value):
        raise InvalidInput.of(field, "a SIRET is exactly 14 digits")
    if not luhn_valid(value):
        raise InvalidInput.of(field, "the SIRET checksum (Luhn) does not match: check the digits")
    return value
