"""Property: after every change, each activity that has not started holds exactly its eligible
learners (capacity and waitlist included), and started activities keep their history."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from app import clock
from app.domain.errors import DomainError
from app.services import activities, curricula, enrolments, learners
from app.store.engine import read_transaction, write_transaction
from tests.app.conftest import NOW, reset
from tests.app.propagation.oracle import World, actual_participants, expected_participants, load

YEARS = ("2026-2027", "2026-2027", "2026-2027", "2027-2028")


@st.composite
def school(draw: st.DrawFn) -> dict[str, Any]:
    steps = []
    for s in range(draw(st.integers(1, 2))):
        nodes: list[dict[str, Any]] = []
        roots: list[dict[str, Any]] = []
        for i in range(draw(st.integers(1, 6))):
            optional = draw(st.booleans())
            node = {
                "code": f"E{s}{i}",
                "label": "x",
                "kind": "unit",
                "optional": optional,
                "children": [],
            }
            if optional:
                node["choice_group"] = "CG"
            parent = draw(st.sampled_from([None, *range(len(nodes))]))
            (roots if parent is None else nodes[parent]["children"]).append(node)
            nodes.append(node)
        steps.append(
            {
                "code": f"S{s}",
                "label": "x",
                "year_index": 1,
                "elements": roots,
                "groups": [{"code": f"G{g}", "label": "x"} for g in range(draw(st.integers(0, 2)))],
                "choice_groups": [{"code": "CG", "min": 0, "max": 10}],
            }
        )
    return {
        "programme": {"code": "P", "label": "x"},
        "version": {"code": "V", "label": "x", "curriculum_period": "2024-2029"},
        "steps": steps,
    }


def subset(draw: st.DrawFn, items: list[int]) -> list[int]:
    return sorted(draw(st.sets(st.sampled_from(items), max_size=len(items)))) if items else []


def operation(draw: st.DrawFn, ids: dict[str, Any], state: dict[str, list[int]]) -> tuple[str, Any]:
    kind = draw(
        st.sampled_from(
            [
                "enrol",
                "enrol",
                "enrol_batch",
                "patch_enrolment",
                "cancel",
                "activity",
                "activity",
                "patch_activity",
                "delete_activity",
                "advance_clock",
            ]
        )
    )
    step_code = draw(st.sampled_from(sorted(ids["steps"])))
    step_elements = [v for k, v in ids["elements"].items() if k.startswith(f"E{step_code[1:]}")]
    optional = [v for v in step_elements if v in state["optional"]]
    groups = [v for k, v in ids["groups"].items() if k.startswith(step_code + "/")]
    all_groups = list(ids["groups"].values())

    def selection() -> dict[str, Any]:
        return {
            "groups": subset(draw, groups),
            "choices": subset(draw, optional),
            "exemptions": subset(draw, step_elements) if draw(st.integers(0, 3)) == 0 else [],
        }

    def enrolment_body() -> dict[str, Any]:
        return {
            "learner_id": draw(st.sampled_from(state["learners"])),
            "step_id": ids["steps"][step_code],
            "academic_year": draw(st.sampled_from(YEARS)),
            "start_date": (
                date(2026, 8, 1) + timedelta(days=draw(st.integers(-5, 10)))
            ).isoformat(),
            **selection(),
        }

    if kind == "enrol":
        return kind, enrolment_body()
    if kind == "enrol_batch":
        return kind, [enrolment_body() for _ in range(draw(st.integers(1, 3)))]
    if kind in ("patch_enrolment", "cancel") and state["enrolments"]:
        target = draw(st.sampled_from(state["enrolments"]))
        body = {k: v for k, v in selection().items() if draw(st.booleans())}
        if draw(st.booleans()):
            body["start_date"] = (
                date(2026, 8, 1) + timedelta(days=draw(st.integers(-5, 10)))
            ).isoformat()
        return kind, (target, body)
    if kind == "activity" or (
        kind in ("patch_activity", "delete_activity") and not state["activities"]
    ):
        start = NOW + timedelta(hours=draw(st.integers(-30, 200)))
        return "activity", {
            "element_id": draw(st.sampled_from(list(ids["elements"].values()))),
            "academic_year": draw(st.sampled_from(YEARS)),
            "kind": "lecture",
            "group_id": draw(st.sampled_from([None, None, *all_groups])),
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=draw(st.integers(1, 400)))).isoformat(),
            "capacity": draw(st.sampled_from([None, None, 0, 1, 2, 3])),
        }
    if kind in ("patch_activity", "delete_activity"):
        target = draw(st.sampled_from(state["activities"]))
        body = {}
        if draw(st.booleans()):
            body["capacity"] = draw(st.sampled_from([None, 0, 1, 2, 5]))
        if draw(st.booleans()):
            body["group_id"] = draw(st.sampled_from([None, *all_groups]))
        if draw(st.booleans()):
            start = NOW + timedelta(hours=draw(st.integers(-30, 200)))
            body["starts_at"], body["ends_at"] = (
                start.isoformat(),
                (start + timedelta(hours=5)).isoformat(),
            )
        return kind, (target, body or {"capacity": None})
    return "advance_clock", draw(st.integers(1, 60))


def apply(engine: Engine, kind: str, arg: Any, state: dict[str, list[int]]) -> None:
    if kind == "advance_clock":
        clock.set_now(clock.now() + timedelta(hours=arg))
        return
    try:
        with write_transaction(engine) as conn:
            if kind == "enrol":
                state["enrolments"].append(enrolments.create_enrolment(conn, arg)["id"])
            elif kind == "enrol_batch":
                state["enrolments"] += enrolments.create_enrolments(conn, arg)["ids"]
            elif kind == "patch_enrolment":
                enrolments.update_enrolment(conn, *arg)
            elif kind == "cancel":
                enrolments.cancel_enrolment(conn, arg[0])
            elif kind == "activity":
                state["activities"].append(activities.create_activity(conn, arg)["id"])
            elif kind == "patch_activity":
                activities.update_activity(conn, *arg)
            elif kind == "delete_activity":
                activities.delete_activity(conn, arg[0])
                state["activities"].remove(arg[0])
    except DomainError:
        pass  # a refused change must leave everything as it was: the checks below still hold


def check(before: World, after: World, kind: str, arg: Any) -> None:
    now = clock.now()
    for activity_id, act in after.activities.items():
        actual = actual_participants(after, activity_id)
        if act.starts_at > now:
            assert set(actual) == expected_participants(after, activity_id), (
                kind,
                arg,
                activity_id,
            )
            active = sum(1 for s in actual.values() if s == "active")
            wanted = len(actual) if act.capacity is None else min(act.capacity, len(actual))
            assert active == wanted, ("seats", kind, arg, activity_id, actual, act.capacity)
            old = before.activities.get(activity_id)
            kept_capacity = old is not None and (
                act.capacity is None or (old.capacity is not None and act.capacity >= old.capacity)
            )
            if kept_capacity and old.starts_at > now:
                for (a, e), (_, status) in before.participations.items():
                    if a == activity_id and status == "active" and e in actual:
                        assert actual[e] == "active", ("a given seat was taken", kind, arg, a, e)
    for (a, e), _ in before.participations.items():
        started = a in before.activities and before.activities[a].starts_at <= now
        if started and a in after.activities:
            assert (a, e) in after.participations, ("history deleted", kind, arg, a, e)


@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_participations_always_equal_the_eligible_learners(engine, data):
    reset(engine)
    clock.set_now(NOW)
    with write_transaction(engine) as conn:
        ids = curricula.import_curriculum(conn, data.draw(school()))
        state = {
            "learners": [
                learners.create_learner(
                    conn,
                    {
                        "external_id": f"X{i}",
                        "first_name": "a",
                        "last_name": "b",
                        "email": f"x{i}@example.org",
                    },
                )["id"]
                for i in range(4)
            ],
            "enrolments": [],
            "activities": [],
            "optional": [],
        }
    with read_transaction(engine) as conn:
        state["optional"] = [e.id for e in load(conn).elements.values() if e.optional]
    for _ in range(data.draw(st.integers(1, 10))):
        kind, arg = operation(data.draw, ids, state)
        with read_transaction(engine) as conn:
            before = load(conn)
        apply(engine, kind, arg, state)
        with read_transaction(engine) as conn:
            check(before, load(conn), kind, arg)


# Explicit histories at the boundaries DOMAIN.md names, beside the random ones: activities
# that have started (history), full capacity and the waitlist order.

BOUNDARY_SCHOOL = {
    "programme": {"code": "B", "label": "x"},
    "version": {"code": "B-1", "label": "x", "curriculum_period": "2024-2029"},
    "steps": [
        {
            "code": "S0",
            "label": "x",
            "year_index": 1,
            "groups": [{"code": "G0", "label": "x"}, {"code": "G1", "label": "x"}],
            "elements": [{"code": "E00", "label": "x", "kind": "unit", "optional": False}],
        }
    ],
}


class History:
    """A scripted history: every step is checked against the oracle like a random one."""

    def __init__(self, engine: Engine) -> None:
        reset(engine)
        clock.set_now(NOW)
        self.engine = engine
        with write_transaction(engine) as conn:
            self.ids = curricula.import_curriculum(conn, BOUNDARY_SCHOOL)
            self.learners = [
                learners.create_learner(
                    conn,
                    {
                        "external_id": f"B{i}",
                        "first_name": "a",
                        "last_name": "b",
                        "email": f"b{i}@example.org",
                    },
                )["id"]
                for i in range(4)
            ]

    def do(self, label: str, work: Any, refused: str | None = None) -> Any:
        """Run `work(conn)`; when `refused` names a field, it must be refused with 409 on it."""
        with read_transaction(self.engine) as conn:
            before = load(conn)
        result = None
        try:
            with write_transaction(self.engine) as conn:
                result = work(conn)
            assert refused is None, f"{label}: should have been refused on {refused}"
        except DomainError as exc:
            assert refused is not None, f"{label}: refused unexpectedly: {exc.detail}"
            assert exc.status == 409 and exc.errors[0].field == refused, (label, exc.detail)
        with read_transaction(self.engine) as conn:
            after = load(conn)
        check(before, after, label, None)
        return result

    def enrol(self, learner: int, group: str | None = None) -> int:
        body = {
            "learner_id": self.learners[learner],
            "step_id": self.ids["steps"]["S0"],
            "academic_year": YEARS[0],
            "start_date": "2026-08-01",
            "groups": [self.ids["groups"][f"S0/{group}"]] if group else [],
        }
        return self.do(f"enrol {learner}", lambda c: enrolments.create_enrolment(c, body))["id"]

    def activity(self, hours_from_now: int, capacity: int | None = None) -> int:
        start = clock.now() + timedelta(hours=hours_from_now)
        body = {
            "element_id": self.ids["elements"]["E00"],
            "academic_year": YEARS[0],
            "kind": "lecture",
            "group_id": None,
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
            "capacity": capacity,
        }
        return self.do("activity", lambda c: activities.create_activity(c, body))["id"]

    def participants(self, activity_id: int) -> dict[int, str]:
        with read_transaction(self.engine) as conn:
            world = load(conn)
        return actual_participants(world, activity_id)


def test_a_started_activity_refuses_every_change_to_who_took_part(engine):
    history = History(engine)
    first, second = history.enrol(0, "G0"), history.enrol(1, "G1")
    lecture = history.activity(hours_from_now=1)
    clock.set_now(clock.now() + timedelta(hours=2))  # the lecture has started
    taken = history.participants(lecture)
    assert set(taken) == {first, second}
    future = clock.now() + timedelta(hours=100)
    moved = {"starts_at": future.isoformat(), "ends_at": (future + timedelta(hours=2)).isoformat()}
    group = history.ids["groups"]["S0/G0"]
    update = activities.update_activity
    history.do(
        "start moved into the future, group changed",
        lambda c: update(c, lecture, {**moved, "group_id": group}),
        refused="starts_at",
    )
    history.do("start moved into the future", lambda c: update(c, lecture, moved), "starts_at")
    history.do("group changed", lambda c: update(c, lecture, {"group_id": group}), "group_id")
    history.do("capacity lowered", lambda c: update(c, lecture, {"capacity": 1}), "capacity")
    later_end = (clock.now() + timedelta(hours=5)).isoformat()
    history.do("end moved", lambda c: update(c, lecture, {"ends_at": later_end}))
    earlier = (NOW - timedelta(hours=1)).isoformat()
    history.do("start corrected in the past", lambda c: update(c, lecture, {"starts_at": earlier}))
    history.do("same group again", lambda c: update(c, lecture, {"group_id": None}))
    history.do("cancel", lambda c: enrolments.cancel_enrolment(c, second))
    exempt = {"exemptions": [history.ids["elements"]["E00"]]}
    history.do("exemption", lambda c: enrolments.update_enrolment(c, first, exempt))
    history.do("delete", lambda c: activities.delete_activity(c, lecture), "activity_id")
    assert history.participants(lecture) == taken


def test_a_start_moved_into_the_past_cannot_carry_a_change_of_who_takes_part(engine):
    history = History(engine)
    history.enrol(0, "G0")
    lecture = history.activity(hours_from_now=10)
    past = (clock.now() - timedelta(hours=1)).isoformat()
    group = history.ids["groups"]["S0/G1"]
    history.do(
        "start into the past with a new group",
        lambda c: activities.update_activity(c, lecture, {"starts_at": past, "group_id": group}),
        refused="group_id",
    )
    history.do(
        "start into the past alone",
        lambda c: activities.update_activity(c, lecture, {"starts_at": past}),
    )


def test_full_capacity_waitlists_in_arrival_order_and_frees_seats_to_the_earliest(engine):
    history = History(engine)
    lecture = history.activity(hours_from_now=10, capacity=1)
    arrivals = [history.enrol(i) for i in range(4)]
    assert history.participants(lecture) == {
        arrivals[0]: "active",
        **{e: "waitlisted" for e in arrivals[1:]},
    }
    history.do("cancel the seated", lambda c: enrolments.cancel_enrolment(c, arrivals[0]))
    assert history.participants(lecture)[arrivals[1]] == "active"
    update = activities.update_activity
    history.do("capacity raised", lambda c: update(c, lecture, {"capacity": 3}))
    assert set(history.participants(lecture).values()) == {"active"}
    history.do("capacity lowered", lambda c: update(c, lecture, {"capacity": 1}))
    assert history.participants(lecture) == {
        arrivals[1]: "active",
        arrivals[2]: "waitlisted",
        arrivals[3]: "waitlisted",
    }
    history.do("capacity zero", lambda c: update(c, lecture, {"capacity": 0}))
    assert set(history.participants(lecture).values()) == {"waitlisted"}
