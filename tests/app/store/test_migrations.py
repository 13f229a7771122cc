"""The migrations build exactly the schema the code declares, on both engines, both ways."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from app.store import migrate
from app.store.schema import metadata


def test_migrated_schema_matches_the_declared_tables(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_every_migration_goes_down_and_up_again(engine):
    config = migrate.alembic_config()
    with engine.connect().execution_options(writes=True) as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
        conn.commit()
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_approved_requests_keep_their_enrolment_ids_across_0008(client, engine, staff):
    from sqlalchemy import text

    from tests.app.employers.builders import employees, request_body, rule, sign_up
    from tests.app.fixtures import School, post

    school = School(client, staff)
    post(client, "/api/v1/validation-rules", rule(), staff)
    org = sign_up(client, 1)
    ids = [
        post(client, "/api/v1/requests", request_body(school.step, people, ref), org["headers"])[
            "id"
        ]
        for ref, people in (("R1", employees(3, 10, "A")), ("R2", employees(2, 10, "B")))
    ]
    post(client, "/api/v1/requests/validate", {}, staff, 200)

    def listed() -> list[list[int]]:
        return [
            client.simulate_get(f"/api/v1/requests/{i}", headers=staff).json["enrolment_ids"]
            for i in ids
        ]

    before = listed()
    assert [len(e) for e in before] == [3, 2]
    config = migrate.alembic_config()
    with engine.connect().execution_options(writes=True) as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0007")
        conn.commit()
        per_employee = conn.execute(
            text(
                "SELECT request_id, enrolment_id FROM request_employee"
                " ORDER BY request_id, position"
            )
        ).all()
    assert [[e for r, e in per_employee if r == i] for i in ids] == before
    migrate.upgrade(engine)
    assert listed() == before
