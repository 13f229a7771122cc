"""The scenarios' test data is what the app accepts: SIRETs pass the app's own check."""

from __future__ import annotations

import pytest

from app.domain.errors import InvalidInput
from app.domain.siret import siret as app_siret
from loadtests import identities


def test_generated_sirets_pass_the_apps_check():
    for _ in range(2_000):
        value = identities.siret()
        assert app_siret(value) == value


@pytest.mark.parametrize("digits", ["73282932000074", "35600000000048", "00000000000000"])
def test_luhn_agrees_with_the_app(digits):
    assert identities.luhn_valid(digits) == _app_accepts(digits)


def test_a_wrong_check_digit_is_refused_by_both():
    value = identities.siret()
    wrong = value[:-1] + str((int(value[-1]) + 1) % 10)
    assert not identities.luhn_valid(wrong)
    assert not _app_accepts(wrong)


def test_identities_are_unique_and_hours_within_the_apps_bound():
    from app.domain.employer_limits import MAX_HOURS_PER_EMPLOYEE

    people = identities.employees(5_000)
    assert len({p["external_id"] for p in people}) == 5_000
    hours = [p["hours"] for p in people]
    assert all(1 <= h <= MAX_HOURS_PER_EMPLOYEE for h in hours)
    assert max(hours) >= 100_000  # the large counts are there


def _app_accepts(digits: str) -> bool:
    try:
        app_siret(digits)
    except InvalidInput:
        return False
    return True


def test_a_forked_worker_draws_ids_of_its_own():
    # `locust --processes N` forks after importing the scenario.
    import os

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        os.write(write, identities.unique("LT").encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 200).decode()
    os.waitpid(pid, 0)
    mine = identities.unique("LT")
    assert child and child.rsplit("-", 2)[0] == mine.rsplit("-", 2)[0]  # same run
    assert child.rsplit("-", 2)[1] != mine.rsplit("-", 2)[1]  # another process
