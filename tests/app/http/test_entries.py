"""Two entries: every operation has an audience, and the app holds each entry's line itself."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import replace

import falcon.testing
import pytest

from app.http.app import create_app
from app.http.audiences import (
    AUDIENCES,
    ENTRY_HEADER,
    EXTRANET,
    INTRANET,
    INTRANET_ENTRY,
    PUBLIC,
    PUBLIC_ENTRY,
    path_pattern,
    paths_of,
)
from app.http.routes import ROUTES, STAFF
from app.settings import Settings, SettingsError
from tests.app.conftest import token_for
from tests.app.fixtures import School

PROXY = "127.0.0.1"
OUTSIDER = "192.0.2.10"


def _ops():
    for route in ROUTES:
        for method, op in route.ops.items():
            yield f"{method} {route.path}", route, op


@pytest.mark.parametrize(("label", "route", "op"), list(_ops()), ids=lambda v: str(v)[:60])
def test_every_operation_names_an_audience_that_fits_its_roles(label, route, op):
    assert op.audience in AUDIENCES, f"{label}: audience {op.audience!r}"
    if op.public:
        assert op.audience == PUBLIC, label
    elif op.roles and set(op.roles) <= set(STAFF):
        assert op.audience == INTRANET, f"{label}: only staff call it"
    elif op.roles:
        # Students and employers are on the Internet: their operations must reach them.
        assert op.audience == EXTRANET, f"{label}: students or employers call it"


def test_the_public_entry_publishes_no_path_whose_operations_are_all_intranet():
    public = set(paths_of(ROUTES, PUBLIC_ENTRY))
    for route in ROUTES:
        audiences = {op.audience for op in route.ops.values()}
        assert (route.path in public) == (audiences != {INTRANET}), route.path
    assert set(paths_of(ROUTES, INTRANET_ENTRY)) == {route.path for route in ROUTES}
    with pytest.raises(ValueError, match="entry must be one of"):
        paths_of(ROUTES, "dmz")


def test_a_path_pattern_matches_its_own_path_and_not_a_sibling():
    pattern = re.compile(path_pattern("/api/v1/requests/{request_id}"))
    assert pattern.match("/api/v1/requests/42") and pattern.match("/api/v1/requests/42/")
    assert not pattern.match("/api/v1/requests/validate")
    assert not pattern.match("/api/v1/requests/42/decision")
    assert re.compile(path_pattern("/api/v1/exams/{exam_id}/attendance-sheet.pdf")).match(
        "/api/v1/exams/3/attendance-sheet.pdf"
    )
    assert not re.compile(path_pattern("/api/v1/exams/{exam_id}/attendance-sheet.pdf")).match(
        "/api/v1/exams/3/attendance-sheetXpdf"
    )


@pytest.fixture
def behind_proxy(settings: Settings, engine) -> falcon.testing.TestClient:
    trusted = (ipaddress.ip_network(f"{PROXY}/32"),)
    return falcon.testing.TestClient(create_app(replace(settings, trusted_proxies=trusted), engine))


def _get(client, path, headers, entry=None, remote=PROXY):
    extra = {ENTRY_HEADER: entry} if entry else {}
    return client.simulate_get(path, headers={**headers, **extra}, remote_addr=remote)


def test_a_staff_token_is_refused_on_the_public_entry_even_for_a_shared_read(behind_proxy, engine):
    for role in ("staff", "admin"):
        headers = token_for(engine, role)
        refused = _get(behind_proxy, "/api/v1/exam-periods", headers, PUBLIC_ENTRY)
        assert refused.status_code == 403, role
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert refused.json["errors"][0]["field"] == "Authorization"
        assert "intranet entry" in refused.json["errors"][0]["message"]
        served = _get(behind_proxy, "/api/v1/exam-periods", headers, INTRANET_ENTRY)
        assert served.status_code == 200, (role, served.text)


def test_students_work_through_the_public_entry(behind_proxy, engine, staff):
    learner = School(behind_proxy, staff).learner()
    student = token_for(engine, "student", learner_id=learner)
    assert _get(behind_proxy, "/api/v1/exam-periods", student, PUBLIC_ENTRY).status_code == 200


def test_an_intranet_operation_is_not_found_through_the_public_entry_before_any_token(
    behind_proxy,
):
    for label, route, op in _ops():
        if op.audience != INTRANET:
            continue
        method = label.split()[0]
        path = re.sub(r"\{\w+_id\}", "1", route.path)
        answer = behind_proxy.simulate_request(
            method, path, headers={ENTRY_HEADER: PUBLIC_ENTRY}, remote_addr=PROXY
        )
        assert answer.status_code == 404, label
        assert answer.headers["Content-Type"] == "application/problem+json", label


def test_a_forged_entry_header_from_outside_the_proxies_is_ignored(behind_proxy, engine):
    staff = token_for(engine, "staff")
    # Not from a proxy: the header counts for nothing, the roles alone decide.
    forged = _get(behind_proxy, "/api/v1/exam-periods", staff, PUBLIC_ENTRY, remote=OUTSIDER)
    assert forged.status_code == 200
    hidden = behind_proxy.simulate_post(
        "/api/v1/learners", headers={ENTRY_HEADER: PUBLIC_ENTRY}, remote_addr=OUTSIDER
    )
    assert hidden.status_code == 401  # reached the auth check, not the entry's 404


def test_an_unknown_entry_from_a_proxy_counts_as_the_public_one(behind_proxy, engine):
    staff = token_for(engine, "staff")
    assert _get(behind_proxy, "/api/v1/exam-periods", staff, "Intranet ").status_code == 200
    assert _get(behind_proxy, "/api/v1/exam-periods", staff, "dmz").status_code == 403


def test_without_trusted_proxies_no_header_is_believed(client, engine):
    staff = token_for(engine, "staff")
    assert _get(client, "/api/v1/exam-periods", staff, PUBLIC_ENTRY).status_code == 200


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", ()),
        ("127.0.0.1", ("127.0.0.1/32",)),
        (" 127.0.0.1 , 10.42.0.0/16,::1", ("127.0.0.1/32", "10.42.0.0/16", "::1/128")),
    ],
)
def test_trusted_proxies_are_read_from_the_environment(monkeypatch, raw, expected):
    monkeypatch.setenv("APP_TRUSTED_PROXIES", raw)
    assert tuple(str(n) for n in Settings.from_env().trusted_proxies) == expected


@pytest.mark.parametrize("raw", ["nginx", "10.0.0.1/8", "0.0.0.0/0", "::/0", "1.2.3.4/33"])
def test_malformed_trusted_proxies_are_refused_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv("APP_TRUSTED_PROXIES", raw)
    with pytest.raises(SettingsError, match="APP_TRUSTED_PROXIES"):
        Settings.from_env()
