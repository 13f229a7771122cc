"""Exam rules with no I/O: the fee, the state machine, the notice tokens."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.errors import Conflict
from app.domain.exam_fees import FeeSchedule, registration_fee
from app.domain.exam_notice_tokens import InvalidToken, NoticeClaim, sign, verify
from app.domain.exam_registration_states import STATES, TRANSITIONS, next_state

KEY = "k" * 40


@pytest.mark.parametrize(
    ("fixed", "hourly", "hours", "fee"),
    [
        (5_000, 1_250, [1, 2, 3], 5_000 + 1_250 * 6),
        (20_000, 3_333, [4], 20_000 + 13_332),
        (3_000, 999, [], 3_000),
        (0, 0, [24, 24], 0),
        (100_000_000, 10_000_000, [24] * 200, 100_000_000 + 10_000_000 * 4_800),
    ],
)
def test_the_fee_is_fixed_plus_hourly_times_hours_in_exact_cents(fixed, hourly, hours, fee):
    assert registration_fee(FeeSchedule(fixed, hourly), hours) == fee


def test_a_negative_price_is_refused_rather_than_charged():
    with pytest.raises(ValueError):
        registration_fee(FeeSchedule(-1, 0), [1])


EXPECTED = {
    ("draft", "submit"): "submitted",
    ("submitted", "verify"): "verified",
    ("submitted", "reject"): "rejected",
    ("verified", "reject"): "rejected",
    ("verified", "pay"): "paid",
    ("paid", "finalise"): "final",
    ("draft", "cancel"): "cancelled",
    ("submitted", "cancel"): "cancelled",
    ("verified", "cancel"): "cancelled",
}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", sorted(TRANSITIONS))
def test_every_state_and_action_moves_as_the_workflow_says_or_is_refused_naming_the_state(
    state, action
):
    if (state, action) in EXPECTED:
        assert next_state(state, action) == EXPECTED[(state, action)]
    else:
        with pytest.raises(Conflict) as refused:
            next_state(state, action)
        assert refused.value.errors[0].field == "status"
        assert f"the registration is {state}" in refused.value.detail


def test_a_token_carries_its_registration_exam_and_learner():
    claim = NoticeClaim(12, 345, 6789)
    assert verify(KEY, sign(KEY, claim)) == claim


@given(st.integers(1, 2**63 - 1), st.integers(1, 2**63 - 1), st.integers(1, 2**63 - 1))
def test_a_token_moved_to_another_exam_registration_or_learner_is_refused(reg, exam, learner):
    token = sign(KEY, NoticeClaim(reg, exam, learner))
    version, r, e, lrn, mac = token.split(".")
    for moved in (
        f"{version}.{r}.{int(e) % (2**63 - 1) + 1}.{lrn}.{mac}",
        f"{version}.{int(r) % (2**63 - 1) + 1}.{e}.{lrn}.{mac}",
        f"{version}.{r}.{e}.{int(lrn) % (2**63 - 1) + 1}.{mac}",
    ):
        with pytest.raises(InvalidToken):
            verify(KEY, moved)


def test_a_token_signed_with_another_key_or_altered_is_refused():
    token = sign(KEY, NoticeClaim(1, 2, 3))
    with pytest.raises(InvalidToken):
        verify("another key of the same length!!!!!!!!!", token)
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (flipped, token + "x", token.replace("N1", "N2"), "", "N1.1.2.3", "€" * 50):
        with pytest.raises(InvalidToken):
            verify(KEY, bad)
