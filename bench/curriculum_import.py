"""Curriculum import benchmark: a 5,000-element curriculum, then the switch to its successor.

Imports a 2024-2029 curriculum (five steps of semesters, blocks, units and courses, the optional
courses in choice groups), then the 2029-2034 switch: a new version of the same programme with
every code and label replaced, then re-posts the 2029-2034 one with its course labels fixed
(every element updated in place). Each runs three ways, one fresh database per way and run:

- baseline: the row-by-row algorithm the service used before it became set-based (one statement
  per step, group, choice group and element), kept below in this script only;
- set-based: `app.services.curricula.import_curriculum`, one statement per table and per level;
- limit: the same rows written by the driver's bulk path into the same tables, ids computed in
  Python, nothing checked (COPY on PostgreSQL, one prepared multi-row INSERT per table on SQLite).

Prints, in one run, wall time (median of --repeat), statements and elements per second of each,
the speed-up over the baseline and the ratio to the limit.

    .venv/bin/python bench/curriculum_import.py [--database-url postgresql://...] [--repeat 3]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from app.domain import values
from app.domain.errors import Conflict, FieldError, InvalidInput, collect
from app.services import curricula
from app.settings import Settings
from app.store import migrate
from app.store.databases import drop_database
from app.store.engine import build_engine, normalise_url, write_transaction
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

ELEMENTS = 5000
STEPS = tuple((code, f"{code[0]} {code[1]}") for code in ("L1", "L2", "L3", "M1", "M2"))
BLOCKS, UNITS, COURSES, OPTIONS = 4, 8, 12, 3


# --- the curriculum -------------------------------------------------------------------------


def maquette(first_year: int, size: int = ELEMENTS) -> dict[str, Any]:
    """A curriculum of `size` elements for the period starting `first_year`.

    Each step gets an equal share: two semesters of BLOCKS blocks ("parcours") of UNITS units,
    each unit with COURSES mandatory courses and OPTIONS optional ones in the block's choice
    group (pick 1 or 2). Codes and labels carry the period, so the switch replaces them all.
    """
    tag = str(first_year)[2:]
    steps = []
    for index, (step_code, step_label) in enumerate(STEPS):
        budget = size // len(STEPS) + (index < size % len(STEPS))
        elements: list[dict[str, Any]] = []
        choice_groups = []
        for sem in (1, 2):
            # A full semester holds more than its share: the share is always filled exactly.
            quota = budget // 2 if sem == 1 else budget - budget // 2
            elements.append(semester(f"{tag}{step_code}-S{sem}", sem, first_year, quota))
            choice_groups += [
                {"code": f"OPT-S{sem}-B{b}", "min": 1, "max": 2}
                for b in range(1, len(elements[-1]["children"]) + 1)
            ]
        steps.append(
            {
                "code": f"{tag}{step_code}",
                "label": f"{step_label} ({first_year})",
                "year_index": index + 1,
                "groups": [{"code": f"TD-{g}", "label": f"Groupe {g}"} for g in "ABCDEF"],
                "choice_groups": choice_groups,
                "elements": elements,
            }
        )
    body = {
        "programme": {"code": "LINFO", "label": "Licence et master informatique"},
        "version": {
            "code": f"LINFO-{first_year}",
            "label": f"Informatique, maquette {first_year}-{first_year + 5}",
            "curriculum_period": f"{first_year}-{first_year + 5}",
        },
        "steps": steps,
    }
    assert count_elements(body) == size, count_elements(body)
    return body


def semester(prefix: str, number: int, first_year: int, quota: int) -> dict[str, Any]:
    """Semester `number`'s tree of exactly `quota` elements; block b's options join OPT-S{n}-Bb."""
    made = 0

    def node(code: str, label: str, kind: str, **extra: Any) -> dict[str, Any]:
        nonlocal made
        made += 1
        return {"code": f"{prefix}{code}", "label": f"{label} ({first_year})", "kind": kind,
                "optional": False, "children": [], **extra}  # fmt: skip

    root = node("", f"Semestre {number}", "semester")
    for b in range(1, BLOCKS + 1):
        if made >= quota:
            break
        block = node(f"-B{b}", f"Parcours {b}", "block")
        root["children"].append(block)
        for u in range(1, UNITS + 1):
            if made >= quota:
                break
            unit = node(f"-B{b}-UE{u}", f"UE {u}", "unit", ects=6)
            block["children"].append(unit)
            for c in range(1, COURSES + OPTIONS + 1):
                if made >= quota:
                    break
                options = {"optional": True, "choice_group": f"OPT-S{number}-B{b}"}
                unit["children"].append(
                    node(
                        f"-B{b}-UE{u}-EC{c:02}",
                        f"Cours {c}",
                        "course",
                        hours=24,
                        **(options if c > COURSES else {}),
                    )
                )
    return root


def count_elements(body: dict[str, Any]) -> int:
    return sum(1 for _ in tree_rows(body))


def tree_rows(body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], str | None, int]]:
    """(step code, element, parent code, depth), step by step, parents first."""
    for step_in in body["steps"]:
        queue = [(e, None, 0) for e in step_in["elements"]]
        while queue:
            item, parent, depth = queue.pop()
            yield step_in["code"], item, parent, depth
            queue.extend((c, item["code"], depth + 1) for c in item.get("children", []))


# --- baseline: the row-by-row import, as the service did it before it became set-based -----


@dataclass(frozen=True)
class _Node:
    field: str
    data: dict[str, Any]
    step_code: str
    parent_code: str | None
    depth: int


def baseline_import_curriculum(conn: Connection, body: dict[str, Any]) -> dict[str, Any]:
    """BASELINE, not the product: one statement per step, group, choice group and element."""
    values.curriculum_period(body["version"]["curriculum_period"], "version.curriculum_period")
    nodes = list(_baseline_walk(body["steps"]))
    _baseline_check_payload(body, nodes)
    programme_in = body["programme"]
    programme_id = _baseline_upsert(
        conn, programme, {"code": programme_in["code"]}, {"label": programme_in["label"]}
    )
    version = body["version"]
    existing_version = conn.execute(
        select(programme_version.c.programme_id).where(programme_version.c.code == version["code"])
    ).first()
    if existing_version and existing_version.programme_id != programme_id:
        raise Conflict.of("version.code", "this version code belongs to another programme")
    version_id = _baseline_upsert(
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
        step_id = _baseline_upsert(
            conn,
            step,
            {"programme_version_id": version_id, "code": step_in["code"]},
            {"label": step_in["label"], "year_index": step_in["year_index"]},
        )
        steps[step_in["code"]] = step_id
        for group_in in step_in.get("groups", []):
            groups[f"{step_in['code']}/{group_in['code']}"] = _baseline_upsert(
                conn,
                learner_group,
                {"step_id": step_id, "code": group_in["code"]},
                {"label": group_in["label"]},
            )
        for cg in step_in.get("choice_groups", []):
            if cg["min"] > cg["max"]:
                raise InvalidInput.of(f"steps[{index}].choice_groups", f"{cg['code']}: min > max")
            choice_groups[f"{step_in['code']}/{cg['code']}"] = _baseline_upsert(
                conn,
                choice_group,
                {"step_id": step_id, "code": cg["code"]},
                {"min_choices": cg["min"], "max_choices": cg["max"]},
            )
    elements = _baseline_import_elements(conn, version_id, nodes, steps, choice_groups)
    return {
        "programme_version_id": version_id,
        "steps": steps,
        "groups": groups,
        "choice_groups": choice_groups,
        "elements": elements,
    }


def _baseline_walk(steps_in: list[dict[str, Any]]) -> Iterator[_Node]:
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


def _baseline_check_payload(body: dict[str, Any], nodes: list[_Node]) -> None:
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
    if len(nodes) > curricula.MAX_ELEMENTS:
        errors.append(FieldError("steps", f"at most {curricula.MAX_ELEMENTS} elements per import"))
    seen: set[str] = set()
    cg_codes = {(s["code"], cg["code"]) for s in body["steps"] for cg in s.get("choice_groups", [])}
    for node in nodes:
        code = node.data["code"]
        if code in seen:
            errors.append(FieldError(f"{node.field}.code", "element codes must be unique"))
        seen.add(code)
        if node.depth >= curricula.MAX_DEPTH:
            errors.append(FieldError(node.field, "trees are too deep"))
        cg = node.data.get("choice_group")
        if cg is not None:
            if not node.data["optional"]:
                errors.append(FieldError(f"{node.field}.choice_group", "only optional ones"))
            elif (node.step_code, cg) not in cg_codes:
                errors.append(FieldError(f"{node.field}.choice_group", "no such choice group"))
    collect(errors)


def _baseline_upsert(  # type: ignore[no-untyped-def]
    conn: Connection, table, key: dict[str, Any], data: dict[str, Any], insert_only=None
) -> int:
    statement = insert_for(conn, table).values(**key, **data, **(insert_only or {}))
    statement = statement.on_conflict_do_update(
        index_elements=list(key), set_={k: statement.excluded[k] for k in data}
    ).returning(table.c.id)
    return conn.execute(statement).scalar_one()


def _baseline_import_elements(
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
    for node in nodes:
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
                errors.append(FieldError(f"{node.field}.code", "moved"))
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


# --- the limit: the same rows through the driver's bulk path ---------------------------------


class BulkLoad:
    """Writes a curriculum's rows with ids chosen here: no lookups, no conflicts, no checks."""

    def __init__(self) -> None:
        self.next_id: dict[str, int] = {}
        self.programmes: dict[str, int] = {}

    def new_id(self, table: str) -> int:
        self.next_id[table] = self.next_id.get(table, 0) + 1
        return self.next_id[table]

    def rows(self, body: dict[str, Any]) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
        """Per table: (columns, rows), parents before children."""
        tables: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}

        def add(table: str, columns: list[str], row: tuple[Any, ...]) -> None:
            tables.setdefault(table, (columns, []))[1].append(row)

        p = body["programme"]
        if p["code"] not in self.programmes:
            self.programmes[p["code"]] = self.new_id("programme")
            row = (self.programmes[p["code"]], p["code"], p["label"])
            add("programme", ["id", "code", "label"], row)
        version_id = self.new_id("programme_version")
        v = body["version"]
        add(
            "programme_version",
            ["id", "programme_id", "code", "label", "curriculum_period"],
            (version_id, self.programmes[p["code"]], v["code"], v["label"], v["curriculum_period"]),
        )
        steps, cgs = {}, {}
        for s in body["steps"]:
            steps[s["code"]] = self.new_id("step")
            add(
                "step",
                ["id", "programme_version_id", "code", "label", "year_index"],
                (steps[s["code"]], version_id, s["code"], s["label"], s["year_index"]),
            )
            for g in s["groups"]:
                add(
                    "learner_group",
                    ["id", "step_id", "code", "label"],
                    (self.new_id("learner_group"), steps[s["code"]], g["code"], g["label"]),
                )
            for cg in s["choice_groups"]:
                cgs[(s["code"], cg["code"])] = self.new_id("choice_group")
                add(
                    "choice_group",
                    ["id", "step_id", "code", "min_choices", "max_choices"],
                    (
                        cgs[(s["code"], cg["code"])],
                        steps[s["code"]],
                        cg["code"],
                        cg["min"],
                        cg["max"],
                    ),
                )
        ids: dict[str, int] = {}
        paths: dict[str, list[int]] = {}
        element_columns = ["id", "programme_version_id", "step_id", "parent_id", "code", "label"]
        element_columns += ["kind", "optional", "choice_group_id", "ects", "hours"]
        for step_code, item, parent, _depth in tree_rows(body):
            me = ids[item["code"]] = self.new_id("element")
            cg = item.get("choice_group")
            add(
                "element",
                element_columns,
                (
                    me,
                    version_id,
                    steps[step_code],
                    ids[parent] if parent else None,
                    item["code"],
                    item["label"],
                    item["kind"],
                    item["optional"],
                    cgs[(step_code, cg)] if cg else None,
                    item.get("ects"),
                    item.get("hours"),
                ),
            )
            paths[item["code"]] = [me, *(paths[parent] if parent else [])]
            for depth, ancestor in enumerate(paths[item["code"]]):
                add(
                    "element_closure",
                    ["ancestor_id", "descendant_id", "depth"],
                    (ancestor, me, depth),
                )
        return tables

    def write(self, conn: Connection, body: dict[str, Any]) -> int:
        """Load `body`'s rows, one COPY or one prepared multi-row INSERT per table."""
        tables = self.rows(body)
        raw = conn.connection.driver_connection
        cursor = raw.cursor()
        for table, (columns, rows) in tables.items():
            if conn.dialect.name == "postgresql":
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in columns)
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
                )
        cursor.close()
        return len(tables)


# --- the runs --------------------------------------------------------------------------------


def scratch_database(server_url: str | None) -> tuple[str, Callable[[], None]]:
    """A new empty database: a SQLite file, or a database on the given PostgreSQL server."""
    if not server_url:
        path = Path(tempfile.mkdtemp()) / "bench.db"
        return f"sqlite:///{path}", lambda: path.unlink(missing_ok=True)
    admin_url = make_url(normalise_url(server_url))
    name = f"campus_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            drop_database(conn, name)
        admin.dispose()

    return admin_url.set(database=name).render_as_string(hide_password=False), drop


def timed(engine: Engine, work: Callable[[Connection], Any]) -> tuple[float, int]:
    """(seconds, statements) of `work` in one write transaction, commit included."""
    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        started = time.perf_counter()
        with write_transaction(engine) as conn:
            work(conn)
        return time.perf_counter() - started, statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


SCENARIOS = ("import 2024-2029", "switch 2029-2034", "re-post 2029-2034, labels fixed")
# Re-posting relabels rows in place: a bulk load has nothing to compare it with.
NO_LIMIT = SCENARIOS[2]


def relabelled(body: dict[str, Any]) -> dict[str, Any]:
    """`body` with every element's label corrected: the same codes, nothing new."""
    fixed = copy.deepcopy(body)
    for _step, item, _parent, _depth in tree_rows(fixed):
        item["label"] = item["label"].replace("Cours", "Enseignement")
    return fixed


def run_path(server_url: str | None, path: str) -> dict[str, tuple[float, int]]:
    """The scenarios, one after the other, on a fresh database."""
    url, drop = scratch_database(server_url)
    engine = build_engine(Settings(database_url=url))
    try:
        migrate.upgrade(engine)
        bodies = (maquette(2024), maquette(2029), relabelled(maquette(2029)))
        results = {}
        loader = BulkLoad()
        for scenario, body in zip(SCENARIOS, bodies, strict=True):
            if path == "baseline":
                results[scenario] = timed(
                    engine, lambda c, b=body: baseline_import_curriculum(c, b)
                )
            elif path == "set-based":
                results[scenario] = timed(
                    engine, lambda c, b=body: curricula.import_curriculum(c, b)
                )
            elif scenario == NO_LIMIT:
                results[scenario] = (float("nan"), 0)
            else:
                # The driver's bulk path sends its rows outside SQLAlchemy: count its calls.
                calls = 0

                def load(c: Connection, b: dict[str, Any] = body) -> None:
                    nonlocal calls
                    calls = loader.write(c, b)

                seconds, _ = timed(engine, load)
                results[scenario] = (seconds, calls)
        with engine.connect() as conn:
            written = conn.execute(select(func.count()).select_from(element)).scalar_one()
            assert written == 2 * ELEMENTS, written
        return results
    finally:
        engine.dispose()
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostgreSQL server URL (default: a SQLite file)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    engine_name = "postgresql" if args.database_url else "sqlite"
    paths = ("baseline", "set-based", "limit")
    runs: dict[str, list[dict[str, tuple[float, int]]]] = {p: [] for p in paths}
    for _ in range(args.repeat):
        for path in paths:  # interleaved, so that a busy moment hits every path alike
            runs[path].append(run_path(args.database_url, path))
    print(
        f"{engine_name}: {ELEMENTS} elements per curriculum, median of {args.repeat} runs "
        "(wall time, commit included)"
    )
    for scenario in SCENARIOS:
        median = {p: statistics.median(r[scenario][0] for r in runs[p]) for p in paths}
        statements = {p: runs[p][0][scenario][1] for p in paths}
        print(f"  {scenario}")
        for p in paths:
            if p == "limit" and scenario == NO_LIMIT:
                print(f"    {p:9} none: no rows to load, only labels to change")
                continue
            line = (
                f"    {p:9} {median[p]:7.3f} s {statements[p]:6} statements "
                f"{ELEMENTS / median[p]:9.0f} elements/s"
            )
            if p == "set-based":
                line += (
                    f" | {median['baseline'] / median[p]:5.1f}x faster than the baseline,"
                    f" {statements['baseline'] / statements[p]:6.1f}x fewer statements"
                )
            if p != "limit" and scenario != NO_LIMIT:
                line += f" | {median[p] / median['limit']:5.1f}x the bulk-load limit"
            print(line)


if __name__ == "__main__":
    main()
