"""A believable demo school, created through the same services the API uses; idempotent."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from app import clock
from app.services.activities import create_activity
from app.services.curricula import import_curriculum
from app.services.enrolments import create_enrolments
from app.services.learners import create_learner
from app.store.schema import activity, enrolment, learner

FIRST = (
    "Camille",
    "Léa",
    "Hugo",
    "Lucas",
    "Chloé",
    "Inès",
    "Nathan",
    "Manon",
    "Jules",
    "Sarah",
    "Louis",
    "Emma",
    "Yanis",
    "Zoé",
    "Adam",
    "Jade",
    "Tom",
    "Lina",
    "Noah",
    "Clara",
)
LAST = (
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "Andre",
    "Mercier",
    "Dupont",
    "Lambert",
)

# (programme, label, steps: (code, label, year index, learners, groups, unit codes and labels))
SCHOOL = (
    (
        "LINFO",
        "Licence Informatique",
        (
            (
                "LINFO-L1",
                "Licence 1",
                1,
                700,
                4,
                (
                    ("ALGO1", "Algorithmique"),
                    ("PROG1", "Programmation"),
                    ("MATH1", "Mathématiques discrètes"),
                ),
            ),
            (
                "LINFO-L2",
                "Licence 2",
                2,
                450,
                3,
                (("BDD", "Bases de données"), ("SYS", "Systèmes"), ("RES", "Réseaux")),
            ),
            (
                "LINFO-L3",
                "Licence 3",
                3,
                350,
                3,
                (
                    ("COMP", "Compilation"),
                    ("GL", "Génie logiciel"),
                    ("IA", "Intelligence artificielle"),
                ),
            ),
        ),
    ),
    (
        "MMATH",
        "Master Mathématiques appliquées",
        (
            (
                "MMATH-M1",
                "Master 1",
                4,
                200,
                2,
                (
                    ("ANA", "Analyse numérique"),
                    ("PROBA", "Probabilités"),
                    ("OPTIM", "Optimisation"),
                ),
            ),
            (
                "MMATH-M2",
                "Master 2",
                5,
                150,
                2,
                (
                    ("STAT", "Statistique"),
                    ("EDP", "Équations aux dérivées partielles"),
                    ("MEM", "Mémoire"),
                ),
            ),
        ),
    ),
    (
        "LPRO-RH",
        "Licence professionnelle Ressources humaines",
        (
            (
                "LPRO-RH-1",
                "Année unique",
                3,
                150,
                2,
                (
                    ("DROIT", "Droit du travail"),
                    ("PAIE", "Gestion de la paie"),
                    ("FORM", "Ingénierie de formation"),
                ),
            ),
        ),
    ),
)


def _email(first: str, last: str, serial: int) -> str:
    local = f"{first}.{last}.{serial}".lower().encode("ascii", "ignore").decode()
    return f"{local}@etu.campus.example"


def academic_year_of(moment: datetime) -> tuple[int, str]:
    """The academic year a moment falls in: it turns over on 1 August."""
    first = moment.year if moment.month >= 8 else moment.year - 1
    return first, f"{first}-{first + 1}"


def _curriculum(code: str, label: str, steps: tuple[Any, ...]) -> dict[str, Any]:
    step_docs = []
    for step_code, step_label, year_index, _count, groups, units in steps:
        elements = []
        for sem in (1, 2):
            children = []
            for unit_code, unit_label in units:
                children.append(
                    {
                        "code": f"{step_code}-S{sem}-{unit_code}",
                        "label": f"{unit_label} {sem}",
                        "kind": "unit",
                        "optional": False,
                        "ects": 6,
                        "hours": 48,
                        "children": [
                            {
                                "code": f"{step_code}-S{sem}-{unit_code}-EC",
                                "label": f"{unit_label} {sem} : cours",
                                "kind": "course",
                                "optional": False,
                                "hours": 24,
                            }
                        ],
                    }
                )
            children.append(
                {
                    "code": f"{step_code}-S{sem}-OPT",
                    "label": f"Options du semestre {sem}",
                    "kind": "unit",
                    "optional": False,
                    "ects": 6,
                    "children": [
                        {
                            "code": f"{step_code}-S{sem}-OPT-{o}",
                            "label": name,
                            "kind": "course",
                            "optional": True,
                            "choice_group": f"OPT-S{sem}",
                            "hours": 24,
                        }
                        for o, name in (("ANG", "Anglais"), ("ESP", "Espagnol"), ("SPORT", "Sport"))
                    ],
                }
            )
            elements.append(
                {
                    "code": f"{step_code}-S{sem}",
                    "label": f"Semestre {sem}",
                    "kind": "semester",
                    "optional": False,
                    "children": children,
                }
            )
        step_docs.append(
            {
                "code": step_code,
                "label": step_label,
                "year_index": year_index,
                "groups": [
                    {"code": f"TD-{chr(65 + g)}", "label": f"Groupe {chr(65 + g)}"}
                    for g in range(groups)
                ],
                "choice_groups": [
                    {"code": "OPT-S1", "min": 1, "max": 1},
                    {"code": "OPT-S2", "min": 1, "max": 1},
                ],
                "elements": elements,
            }
        )
    return {
        "programme": {"code": code, "label": label},
        "version": {
            "code": f"{code}-2024",
            "label": f"{label} (maquette 2024-2029)",
            "curriculum_period": "2024-2029",
        },
        "steps": step_docs,
    }


def seed_demo(conn: Connection) -> dict[str, int]:
    """Create what is missing of the demo school; returns what was created this time.

    The school enrols as of 1 September, so the first weeks' activities carry history.
    """
    first_year, _ = academic_year_of(clock.now())
    enrolment_day = datetime(first_year, 9, 1, 7, 0, tzinfo=UTC)
    if clock.now() <= enrolment_day:
        return _seed(conn)
    with clock.frozen_at(enrolment_day):
        return _seed(conn)


def _seed(conn: Connection) -> dict[str, int]:
    rng = random.Random(2024)
    first_year, year = academic_year_of(clock.now())
    term_start = datetime(first_year, 9, 8, 8, 0, tzinfo=UTC)
    created = {"learners": 0, "enrolments": 0, "activities": 0, "participations": 0}
    existing_learners = {
        r.external_id: r.id for r in conn.execute(select(learner.c.id, learner.c.external_id))
    }
    with_activities = set(
        conn.execute(
            select(activity.c.element_id).where(activity.c.academic_year == year)
        ).scalars()
    )
    enrolled = set(
        conn.execute(
            select(enrolment.c.learner_id, enrolment.c.step_id).where(
                enrolment.c.academic_year == year, enrolment.c.status == "active"
            )
        ).tuples()
    )
    serial = 0
    for code, label, steps in SCHOOL:
        ids = import_curriculum(conn, _curriculum(code, label, steps))
        for step_code, _label, _index, count, groups, units in steps:
            step_id = ids["steps"][step_code]
            group_ids = [ids["groups"][f"{step_code}/TD-{chr(65 + g)}"] for g in range(groups)]
            created["activities"] += _seed_activities(
                conn,
                ids["elements"],
                step_code,
                units,
                group_ids,
                -(-count // groups),
                year,
                term_start,
                with_activities,
            )
            batch = []
            for n in range(count):
                serial += 1
                external_id = f"DEMO-{serial:05d}"
                if external_id not in existing_learners:
                    first, last = rng.choice(FIRST), rng.choice(LAST)
                    existing_learners[external_id] = create_learner(
                        conn,
                        {
                            "external_id": external_id,
                            "first_name": first,
                            "last_name": last,
                            "email": _email(first, last, serial),
                        },
                    )["id"]
                    created["learners"] += 1
                learner_id = existing_learners[external_id]
                if (learner_id, step_id) in enrolled:
                    continue
                options = [
                    ids["elements"][f"{step_code}-S{s}-OPT-{rng.choice(('ANG', 'ESP', 'SPORT'))}"]
                    for s in (1, 2)
                ]
                batch.append(
                    {
                        "learner_id": learner_id,
                        "step_id": step_id,
                        "academic_year": year,
                        "start_date": date(first_year, 9, 1).isoformat(),
                        "groups": [group_ids[n % groups]],
                        "choices": options,
                        "exemptions": [],
                    }
                )
            if batch:
                result = create_enrolments(conn, batch)
                created["enrolments"] += len(result["ids"])
                created["participations"] += result["participations_created"]
    return created


def _seed_activities(
    conn: Connection,
    elements: dict[str, int],
    step_code: str,
    units: tuple[Any, ...],
    group_ids: list[int],
    group_size: int,
    year: str,
    term_start: datetime,
    done: set[int],
) -> int:
    """Lectures, group tutorials (seats for the group and a few more), exams, one popular option
    with fewer seats than takers (a waitlist to look at)."""
    count = 0
    for u, (unit_code, _label) in enumerate(units):
        for sem in (1, 2):
            course = elements[f"{step_code}-S{sem}-{unit_code}-EC"]
            unit = elements[f"{step_code}-S{sem}-{unit_code}"]
            start = term_start + timedelta(weeks=(sem - 1) * 20 + u, days=u)
            plans = [(course, "lecture", None, start, None)]
            if sem == 1 or u == 0:
                plans += [
                    (course, "tutorial", g, start + timedelta(days=1, hours=2 * i), group_size + 5)
                    for i, g in enumerate(group_ids)
                ]
            if u == 0:
                plans.append((unit, "exam", None, start + timedelta(weeks=14), None))
            for element_id, kind, group_id, at, capacity in plans:
                if element_id in done:
                    continue
                create_activity(
                    conn,
                    {
                        "element_id": element_id,
                        "academic_year": year,
                        "kind": kind,
                        "group_id": group_id,
                        "starts_at": at.isoformat(),
                        "ends_at": (at + timedelta(hours=2)).isoformat(),
                        "capacity": capacity,
                    },
                )
                count += 1
            done.update(p[0] for p in plans)
        option = elements[f"{step_code}-S1-OPT-ANG"]
        if u == 0 and option not in done:
            create_activity(
                conn,
                {
                    "element_id": option,
                    "academic_year": year,
                    "kind": "tutorial",
                    "starts_at": (term_start + timedelta(days=2)).isoformat(),
                    "ends_at": (term_start + timedelta(days=2, hours=2)).isoformat(),
                    "capacity": 60,
                },
            )
            done.add(option)
            count += 1
    return count
