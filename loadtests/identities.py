"""Realistic, unique test identities: learners, organisations with valid SIRETs, hour counts.

Every value carries the run's prefix and a process-wide counter, so two load generators, two
runs or two workers never collide on an `external_id`, a SIRET or a request reference (a
collision would be a 409 the app is right to give, and would hide real errors).
"""

from __future__ import annotations

import itertools
import os
import random
import secrets

FIRST = ("Camille", "Léa", "Hugo", "Lucas", "Chloé", "Inès", "Nathan", "Manon", "Jules", "Zoé")
LAST = ("Martin", "Bernard", "Dubois", "Thomas", "Petit", "Durand", "Leroy", "Moreau", "Girard")
COMPANY = ("Boulangerie", "Transports", "Menuiserie", "Hôtel", "Garage", "Atelier", "Librairie")
CITY = ("de Lyon", "du Port", "Dupont", "des Alpes", "Saint-Michel", "de la Gare", "Bretonne")

# One prefix per run, and one per process: `locust --processes N` forks its workers after
# importing the scenario, so each child draws its own (a shared one repeats ids: 409s).
RUN = os.environ.get("LOADTEST_RUN_ID") or secrets.token_hex(3)
_process = secrets.token_hex(3)
_serial = itertools.count(1)


def _new_process() -> None:
    global _process, _serial
    _process = secrets.token_hex(3)
    _serial = itertools.count(1)


os.register_at_fork(after_in_child=_new_process)


def unique(prefix: str) -> str:
    """A token unique across runs, processes and calls, e.g. `LT-3fa2c1-9b0e4d-17`."""
    return f"{prefix}-{RUN}-{_process}-{next(_serial)}"


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum that SIREN and SIRET numbers satisfy."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def siret() -> str:
    """A random 14-digit SIRET whose Luhn checksum holds (1 in 10^13 chance of a repeat)."""
    base = f"{random.randrange(10**12, 10**13):013d}"
    return next(base + str(d) for d in range(10) if luhn_valid(base + str(d)))


def learner() -> dict[str, str]:
    """A new learner body for POST /api/v1/learners."""
    external_id = unique("LT")
    first, last = random.choice(FIRST), random.choice(LAST)
    return {
        "external_id": external_id,
        "first_name": first,
        "last_name": last,
        "email": f"{external_id.lower()}@example.org",
    }


def organisation() -> dict[str, str]:
    """A new organisation body for POST /api/v1/organisations."""
    name = f"{random.choice(COMPANY)} {random.choice(CITY)}"
    return {
        "siret": siret(),
        "name": name,
        "contact_email": f"rh-{unique('org').lower()}@example.fr",
    }


def hours() -> int:
    """Furlough training hours per employee: mostly a working year's worth (35 to 1,607),
    one in ten very large (up to the app's bound of 1,000,000) to exercise 64-bit totals."""
    if random.random() < 0.1:
        return random.randint(100_000, 1_000_000)
    return random.randint(35, 1_607)


def employees(count: int) -> list[dict[str, object]]:
    """`count` employees for POST /api/v1/requests, each a new learner with hours."""
    return [{**learner(), "hours": hours()} for _ in range(count)]
