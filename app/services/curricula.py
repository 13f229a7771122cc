"""Import one programme version tree in one transaction (POST /api/v1/curricula).

The import is set-based: one statement per table for the programme, the version, the steps,
their groups and their choice groups, one upsert per level of the element trees (all steps at
once), and one insert for the closure table. A 5,000-element curriculum costs the same number
of statements as a 10-element one of the same depth (at most MAX_DEPTH levels).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Integer, Table, and_, literal, select

from app.domain import values
from app.domain.errors import Conflict, FieldError, InvalidInput, collect
from app.store.json_rows import id_rows, json_rows
from app.store.schema import (
    choice_group,
    element,
    element_closure,
    learner_group,
    programme,
    programme_version,
    step,
)
from app.store.upsert import insert_for, upsert_select

MAX_ELEMENTS = 5000
MAX_DEPTH = 12

# The columns that place an element in its tree: they never change in place, since moving an
# element would silently change who is eligible for what (a new structure is a new version).
STRUCTURE = ("step_id", "parent_id", "optional", "choice_group_id")
DETAILS = ("label", "kind", "ects", "hours")
_ELEMENT_COLUMNS = {
    "programme_version_id": "int",
    "code": "str",
    "step_id": "int",
    "parent_id": "int",
    "optional": "bool",
    "choice_group_id": "int",
    "label": "str",
    "kind": "str",
    "ects": "int",
    "hours": "int",
}
# Stands for the id of an element this import creates: no existing row has it as a parent.
_NEW = object()


@dataclass(frozen=True)
class _Node:
    field: str
    data: dict[str, Any]
    step_code: str
    parent_code: str | None
    depth: int


def import_curriculum(conn: Connection, body: dict[str, Any]) -> dict[str, Any]:
    """Create or extend a programme version; labels follow the payload, structure never moves.

    Returns the ids of the version, its steps, groups (`STEP/GROUP`), choice groups
    (`STEP/CHOICE_GROUP`) and elements, keyed by code in the payload's order.
    """
    values.curriculum_period(body["version"]["curriculum_period"], "version.curriculum_period")
    nodes = list(_walk(body["steps"]))
    _check_payload(body, nodes)

    programme_in = body["programme"]
    programme_id = _upsert_one(
        conn, programme, {"code": programme_in["code"]}, {"label": programme_in["label"]}
    )
    version_id = _upsert_version(conn, programme_id, body["version"])
    for index, step_in in enumerate(body["steps"]):
        for cg in step_in.get("choice_groups", []):
            if cg["min"] > cg["max"]:
                raise InvalidInput.of(f"steps[{index}].choice_groups", f"{cg['code']}: min > max")

    steps = _upsert_steps(conn, version_id, body["steps"])
    groups = _upsert_step_members(
        conn,
        learner_group,
        steps,
        [
            (step_in["code"], {"code": g["code"], "label": g["label"]})
            for step_in in body["steps"]
            for g in step_in.get("groups", [])
        ],
        {"label": "str"},
    )
    choice_groups = _upsert_step_members(
        conn,
        choice_group,
        steps,
        [
            (
                step_in["code"],
                {"code": cg["code"], "min_choices": cg["min"], "max_choices": cg["max"]},
            )
            for step_in in body["steps"]
            for cg in step_in.get("choice_groups", [])
        ],
        {"min_choices": "int", "max_choices": "int"},
    )
    elements = _import_elements(conn, version_id, nodes, steps, choice_groups)
    return {
        "programme_version_id": version_id,
        "steps": steps,
        "groups": groups,
        "choice_groups": choice_groups,
        "elements": elements,
    }


def _walk(steps_in: list[dict[str, Any]]) -> Iterator[_Node]:
    """Every element, step by step, breadth-first: parents come before their children."""
    for s_index, step_in in enumerate(steps_in):
        queue = deque(
            (f"steps[{s_index}].elements[{i}]", e, None, 0)
            for i, e in enumerate(step_in.get("elements", []))
        )
        while queue:
            field, data, parent, depth = queue.popleft()
            yield _Node(field, data, step_in["code"], parent, depth)
            queue.extend(
                (f"{field}.children[{i}]", child, data["code"], depth + 1)
                for i, child in enumerate(data.get("children", []))
            )


def _check_payload(body: dict[str, Any], nodes: list[_Node]) -> None:
    errors: list[FieldError] = []
    seen_steps: set[str] = set()
    for index, step_in in enumerate(body["steps"]):
        if step_in["code"] in seen_steps:
            errors.append(FieldError(f"steps[{index}].code", "duplicate step code"))
        seen_steps.add(step_in["code"])
        for key in ("groups", "choice_groups"):
            seen_codes: set[str] = set()
            for i, item in enumerate(step_in.get(key, [])):
                if item["code"] in seen_codes:
                    errors.append(FieldError(f"steps[{index}].{key}[{i}].code", "duplicate code"))
                seen_codes.add(item["code"])
    if len(nodes) > MAX_ELEMENTS:
        errors.append(FieldError("steps", f"at most {MAX_ELEMENTS} elements per import"))
    seen: set[str] = set()
    cg_codes = {(s["code"], cg["code"]) for s in body["steps"] for cg in s.get("choice_groups", [])}
    for node in nodes:
        code = node.data["code"]
        if code in seen:
            errors.append(FieldError(f"{node.field}.code", "element codes must be unique"))
        seen.add(code)
        if node.depth >= MAX_DEPTH:
            errors.append(FieldError(node.field, f"trees are at most {MAX_DEPTH} levels deep"))
        cg = node.data.get("choice_group")
        if cg is not None:
            if not node.data["optional"]:
                errors.append(
                    FieldError(f"{node.field}.choice_group", "only optional elements join one")
                )
            elif (node.step_code, cg) not in cg_codes:
                errors.append(
                    FieldError(f"{node.field}.choice_group", f"no choice group {cg!r} in the step")
                )
    collect(errors)


def _upsert_one(conn: Connection, table: Table, key: dict[str, Any], data: dict[str, Any]) -> int:
    """Insert one row by `key`, or update `data` of the existing one; returns its id."""
    statement = insert_for(conn, table).values(**key, **data)
    statement = statement.on_conflict_do_update(
        index_elements=list(key), set_={k: statement.excluded[k] for k in data}
    ).returning(table.c.id)
    return conn.execute(statement).scalar_one()


def _upsert_version(conn: Connection, programme_id: int, version: dict[str, Any]) -> int:
    """Insert or relabel the version; its programme and period are set once, at creation."""
    statement = insert_for(conn, programme_version).values(
        code=version["code"],
        label=version["label"],
        programme_id=programme_id,
        curriculum_period=version["curriculum_period"],
    )
    # The ownership check rides on the upsert itself: a version of another programme is
    # neither updated nor returned, so no separate lookup is needed.
    statement = statement.on_conflict_do_update(
        index_elements=["code"],
        set_={"label": statement.excluded.label},
        where=programme_version.c.programme_id == statement.excluded.programme_id,
    ).returning(programme_version.c.id)
    version_id = conn.execute(statement).scalar_one_or_none()
    if version_id is None:
        raise Conflict.of("version.code", "this version code belongs to another programme")
    return version_id


def _upsert_steps(
    conn: Connection, version_id: int, steps_in: list[dict[str, Any]]
) -> dict[str, int]:
    """Every step of the version in one upsert; ids by step code, in the payload's order."""
    rows = json_rows(
        conn.dialect.name,
        "steps_in",
        {"programme_version_id": "int", "code": "str", "label": "str", "year_index": "int"},
        (
            {
                "programme_version_id": version_id,
                "code": s["code"],
                "label": s["label"],
                "year_index": s["year_index"],
            }
            for s in steps_in
        ),
    )
    columns = ["programme_version_id", "code", "label", "year_index"]
    statement = upsert_select(
        conn,
        step,
        columns,
        select(*(rows.c[c] for c in columns)),
        key=["programme_version_id", "code"],
        update=["label", "year_index"],
    ).returning(step.c.id, step.c.code)
    ids = {row.code: row.id for row in conn.execute(statement)}
    return {s["code"]: ids[s["code"]] for s in steps_in}


def _upsert_step_members(
    conn: Connection,
    table: Table,
    steps: dict[str, int],
    members: Sequence[tuple[str, dict[str, Any]]],
    data: dict[str, str],
) -> dict[str, int]:
    """The groups (or choice groups) of every step in one upsert, keyed `STEP/CODE`.

    `members` are (step code, row) pairs in the payload's order; `data` names the columns
    (with their json_rows types) that follow the payload on a re-import.
    """
    if not members:
        return {}
    types = {"step_id": "int", "code": "str", **data}
    rows = json_rows(
        conn.dialect.name,
        f"{table.name}_in",
        types,
        ({"step_id": steps[step_code], **row} for step_code, row in members),
    )
    statement = upsert_select(
        conn,
        table,
        list(types),
        select(*(rows.c[c] for c in types)),
        key=["step_id", "code"],
        update=list(data),
    ).returning(table.c.id, table.c.step_id, table.c.code)
    ids = {(row.step_id, row.code): row.id for row in conn.execute(statement)}
    return {
        f"{step_code}/{row['code']}": ids[(steps[step_code], row["code"])]
        for step_code, row in members
    }


def _import_elements(
    conn: Connection,
    version_id: int,
    nodes: list[_Node],
    steps: dict[str, int],
    choice_groups: dict[str, int],
) -> dict[str, int]:
    """Upsert the element trees level by level, then the closure rows of the new elements."""
    if not nodes:
        return {}
    existing = {
        row.code: row
        for row in conn.execute(
            select(element.c.id, element.c.code, *(element.c[c] for c in STRUCTURE)).where(
                element.c.programme_version_id == version_id
            )
        )
    }
    _refuse_moves(nodes, existing, steps, choice_groups)

    levels: list[list[_Node]] = [[] for _ in range(max(n.depth for n in nodes) + 1)]
    for node in nodes:
        levels[node.depth].append(node)
    ids: dict[str, int] = {}
    for level in levels:
        # Each level's parents were written by the previous statement: their ids are known.
        ids.update(_upsert_level(conn, version_id, level, ids, steps, choice_groups))

    new_ids = [ids[node.data["code"]] for node in nodes if node.data["code"] not in existing]
    if new_ids:
        _insert_closure(conn, new_ids)
    return {node.data["code"]: ids[node.data["code"]] for node in nodes}


def _insert_closure(conn: Connection, new_ids: list[int]) -> None:
    """Every (ancestor, descendant, depth) row of the new elements, in one statement.

    The database walks up `parent_id` from each new element (at most MAX_DEPTH steps), so the
    rows never travel over the wire: only the new ids do.
    """
    new = id_rows(conn.dialect.name, "new_elements", new_ids)
    up = (
        select(
            element.c.id.label("ancestor_id"),
            element.c.id.label("descendant_id"),
            literal(0, Integer()).label("depth"),
        )
        .where(element.c.id.in_(select(new.c.id)))
        .cte("up", recursive=True)
    )
    above = element.alias("above")
    up = up.union_all(
        select(above.c.parent_id, up.c.descendant_id, up.c.depth + 1).where(
            above.c.id == up.c.ancestor_id, above.c.parent_id.is_not(None)
        )
    )
    columns = ["ancestor_id", "descendant_id", "depth"]
    # DO NOTHING: an element a concurrent import created with this very structure (checked
    # by the level upsert) already has these rows.
    conn.execute(
        upsert_select(
            conn,
            element_closure,
            columns,
            select(*(up.c[c] for c in columns)),
            key=["ancestor_id", "descendant_id"],
            update=[],
        )
    )


def _structure(
    node: _Node, parent_id: object, steps: dict[str, int], choice_groups: dict[str, int]
) -> dict[str, Any]:
    cg_code = node.data.get("choice_group")
    return {
        "step_id": steps[node.step_code],
        "parent_id": parent_id,
        "optional": node.data["optional"],
        "choice_group_id": choice_groups[f"{node.step_code}/{cg_code}"] if cg_code else None,
    }


def _refuse_moves(
    nodes: list[_Node],
    existing: dict[str, Any],
    steps: dict[str, int],
    choice_groups: dict[str, int],
) -> None:
    """409 naming every existing element the payload would move, before anything is written."""
    errors: list[FieldError] = []
    for node in nodes:
        old = existing.get(node.data["code"])
        if old is None:
            continue
        parent = existing.get(node.parent_code) if node.parent_code else None
        parent_id = None if node.parent_code is None else (parent.id if parent else _NEW)
        wanted = _structure(node, parent_id, steps, choice_groups)
        moved = [k for k in STRUCTURE if getattr(old, k) != wanted[k]]
        if moved:
            errors.append(
                FieldError(
                    f"{node.field}.code",
                    f"element exists with another {', '.join(moved)}; "
                    "publish a new programme version instead",
                )
            )
    collect(errors, Conflict)


def _upsert_level(
    conn: Connection,
    version_id: int,
    level: list[_Node],
    ids: dict[str, int],
    steps: dict[str, int],
    choice_groups: dict[str, int],
) -> dict[str, int]:
    """One level of every tree in one upsert: new elements inserted, existing ones relabelled."""
    payload = [
        {
            "programme_version_id": version_id,
            "code": node.data["code"],
            **_structure(
                node, ids[node.parent_code] if node.parent_code else None, steps, choice_groups
            ),
            **{k: node.data.get(k) for k in DETAILS},
        }
        for node in level
    ]
    rows = json_rows(conn.dialect.name, "elements_in", _ELEMENT_COLUMNS, payload)
    statement = upsert_select(
        conn,
        element,
        list(_ELEMENT_COLUMNS),
        select(*(rows.c[c] for c in _ELEMENT_COLUMNS)),
        key=["programme_version_id", "code"],
        update=DETAILS,
        # An existing row is relabelled only where it stands: a row that a concurrent import
        # placed elsewhere since _refuse_moves looked is not returned, and refused below.
        where=lambda excluded: and_(
            *(element.c[c].is_not_distinct_from(excluded[c]) for c in STRUCTURE)
        ),
    ).returning(element.c.id, element.c.code)
    written = {row.code: row.id for row in conn.execute(statement)}
    collect(
        [
            FieldError(
                f"{node.field}.code",
                "element was placed elsewhere by a concurrent import; "
                "publish a new programme version instead",
            )
            for node in level
            if node.data["code"] not in written
        ],
        Conflict,
    )
    return written
