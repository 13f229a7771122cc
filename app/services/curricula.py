"""Import one programme version tree in one transaction (POST /api/v1/curricula)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from app.domain import values
from app.domain.errors import Conflict, FieldError, InvalidInput, collect
from app.store.schema import (
    choice_group,
    element,
    element_closure,
    learner_group,
    programme,
    programme_version,
    step,
)
from app.store.upsert import insert_for

MAX_ELEMENTS = 5000
MAX_DEPTH = 12


@dataclass(frozen=True)
class _Node:
    field: str
    data: dict[str, Any]
    step_code: str
    parent_code: str | None
    depth: int


def import_curriculum(conn: Connection, body: dict[str, Any]) -> dict[str, Any]:
    """Create or extend a programme version; labels follow the payload, structure never moves."""
    values.curriculum_period(body["version"]["curriculum_period"], "version.curriculum_period")
    nodes = list(_walk(body["steps"]))
    _check_payload(body, nodes)

    programme_in = body["programme"]
    programme_id = _upsert(
        conn, programme, {"code": programme_in["code"]}, {"label": programme_in["label"]}
    )
    version = body["version"]
    existing_version = conn.execute(
        select(programme_version.c.programme_id).where(programme_version.c.code == version["code"])
    ).first()
    if existing_version and existing_version.programme_id != programme_id:
        raise Conflict.of("version.code", "this version code belongs to another programme")
    version_id = _upsert(
        conn,
        programme_version,
        {"code": version["code"]},
        {"label": version["label"]},
        {"programme_id": programme_id, "curriculum_period": version["curriculum_period"]},
    )

    steps: dict[str, int] = {}
    groups: dict[str, int] = {}
    choice_groups: dict[str, int] = {}
    for index, step_in in enumerate(body["steps"]):
        step_id = _upsert(
            conn,
            step,
            {"programme_version_id": version_id, "code": step_in["code"]},
            {"label": step_in["label"], "year_index": step_in["year_index"]},
        )
        steps[step_in["code"]] = step_id
        for group_in in step_in.get("groups", []):
            groups[f"{step_in['code']}/{group_in['code']}"] = _upsert(
                conn,
                learner_group,
                {"step_id": step_id, "code": group_in["code"]},
                {"label": group_in["label"]},
            )
        for cg in step_in.get("choice_groups", []):
            if cg["min"] > cg["max"]:
                raise InvalidInput.of(f"steps[{index}].choice_groups", f"{cg['code']}: min > max")
            choice_groups[f"{step_in['code']}/{cg['code']}"] = _upsert(
                conn,
                choice_group,
                {"step_id": step_id, "code": cg["code"]},
                {"min_choices": cg["min"], "max_choices": cg["max"]},
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
    for s_index, step_in in enumerate(steps_in):
        stack = [
            (f"steps[{s_index}].elements[{i}]", e, None, 0)
            for i, e in enumerate(step_in.get("elements", []))
        ]
        while stack:
            field, data, parent, depth = stack.pop(0)
            yield _Node(field, data, step_in["code"], parent, depth)
            stack.extend(
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
            codes = [item["code"] for item in step_in.get(key, [])]
            for i, code in enumerate(codes):
                if code in codes[:i]:
                    errors.append(FieldError(f"steps[{index}].{key}[{i}].code", "duplicate code"))
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


def _upsert(  # type: ignore[no-untyped-def]
    conn: Connection,
    table,
    key: dict[str, Any],
    data: dict[str, Any],
    insert_only: dict[str, Any] | None = None,
) -> int:
    """Insert by `key`, or update `data` of the existing row; `insert_only` is never updated."""
    statement = insert_for(conn, table).values(**key, **data, **(insert_only or {}))
    statement = statement.on_conflict_do_update(
        index_elements=list(key), set_={k: statement.excluded[k] for k in data}
    ).returning(table.c.id)
    return conn.execute(statement).scalar_one()


def _import_elements(
    conn: Connection,
    version_id: int,
    nodes: list[_Node],
    steps: dict[str, int],
    choice_groups: dict[str, int],
) -> dict[str, int]:
    existing = {
        row.code: row
        for row in conn.execute(select(element).where(element.c.programme_version_id == version_id))
    }
    ids: dict[str, int] = {}
    new_closure: list[dict[str, int]] = []
    ancestors: dict[str, list[str]] = {}
    errors: list[FieldError] = []
    for node in nodes:  # parents come before their children (breadth-first walk)
        data = node.data
        cg_code = data.get("choice_group")
        structure = {
            "step_id": steps[node.step_code],
            "parent_id": ids[node.parent_code] if node.parent_code else None,
            "optional": data["optional"],
            "choice_group_id": choice_groups[f"{node.step_code}/{cg_code}"] if cg_code else None,
        }
        details = {
            "label": data["label"],
            "kind": data["kind"],
            "ects": data.get("ects"),
            "hours": data.get("hours"),
        }
        ancestors[data["code"]] = [
            data["code"],
            *(ancestors[node.parent_code] if node.parent_code else []),
        ]
        old = existing.get(data["code"])
        if old is not None:
            moved = [k for k, v in structure.items() if getattr(old, k) != v]
            if moved:
                # Moving an element would silently change who is eligible for what:
                # a new structure is a new programme version.
                errors.append(
                    FieldError(
                        f"{node.field}.code",
                        f"element exists with another {', '.join(moved)}; "
                        "publish a new programme version instead",
                    )
                )
                continue
            conn.execute(element.update().where(element.c.id == old.id).values(**details))
            ids[data["code"]] = old.id
            continue
        new_id = conn.execute(
            element.insert()
            .values(programme_version_id=version_id, code=data["code"], **structure, **details)
            .returning(element.c.id)
        ).scalar_one()
        ids[data["code"]] = new_id
        new_closure.extend(
            {"ancestor_id": ids[code], "descendant_id": new_id, "depth": depth}
            for depth, code in enumerate(ancestors[data["code"]])
        )
    collect(errors, Conflict)
    if new_closure:
        conn.execute(element_closure.insert(), new_closure)
    return ids
