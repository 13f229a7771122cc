"""The served contract (/openapi.json), generated from the route table and request schemas."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from app import __version__
from app.http.schemas import DATE, ID, INSTANT, REQUESTS, YEARS

if TYPE_CHECKING:
    from app.http.operations import Op
    from app.http.routes import Route

_COUNT = {"type": "integer", "minimum": 0}
_STATUS = {"enum": ["active", "waitlisted"]}


def _obj(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties)}


def _page(item: dict[str, Any]) -> dict[str, Any]:
    return _obj(items={"type": "array", "items": item}, next_cursor={"type": ["string", "null"]})


# --- exam registration ---

_CENTS = {"type": "integer", "minimum": 0}
_WHEN = {"anyOf": [INSTANT, {"type": "null"}]}
_REGISTRATION_STATUS = {
    "enum": ["draft", "submitted", "verified", "paid", "final", "rejected", "cancelled"]
}
_PERIOD = _obj(
    id=ID,
    academic_year=YEARS,
    number={"enum": [1, 2, 3]},
    opens_at=INSTANT,
    closes_at=INSTANT,
    status={"enum": ["planned", "open", "closed", "archived"]},
)
_EXAM = _obj(
    id=ID,
    element_id=ID,
    element_code={"type": "string"},
    element_label={"type": "string"},
    period_id=ID,
    supervised_hours={"type": "integer", "minimum": 1},
    starts_at=INSTANT,
    room={"type": ["string", "null"]},
    capacity={"type": ["integer", "null"]},
    modality_ids={"type": "array", "items": ID},
)
_REGISTRATION = _obj(
    id=ID,
    learner_id=ID,
    period_id=ID,
    modality_id=ID,
    centre_id={"anyOf": [ID, {"type": "null"}]},
    status=_REGISTRATION_STATUS,
    fee_cents={"anyOf": [_CENTS, {"type": "null"}]},
    rejection_reason={"type": ["string", "null"]},
    exams={"type": "array", "items": ID, "description": "exams sat this period"},
    deferred={"type": "array", "items": ID, "description": "exams deferred to the resit period"},
    created_at=INSTANT,
    submitted_at=_WHEN,
    verified_at=_WHEN,
    final_at=_WHEN,
)
_MODALITY = _obj(
    id=ID,
    code={"type": "string"},
    label={"type": "string"},
    fixed_fee_cents=_CENTS,
    fee_per_hour_cents=_CENTS,
    needs_centre={"type": "boolean"},
)
_CENTRE = _obj(
    id=ID,
    code={"type": "string"},
    label={"type": "string"},
    modality_id=ID,
    capacity={"type": "integer", "minimum": 0},
)
EXAM_RESPONSES: dict[str, dict[str, Any]] = {
    "ExamPeriod": _PERIOD,
    "ExamPeriodPage": _page(_PERIOD),
    "ExamModalityPage": _page(_MODALITY),
    "ExamCentrePage": _page(_CENTRE),
    "Exam": _EXAM,
    "ExamPage": _page(_EXAM),
    "ExamRegistration": _REGISTRATION,
    "ExamRegistrationPage": _page(_REGISTRATION),
    "NoticeVerification": _obj(
        registration_id=ID, exam_id=ID, learner_id=ID, status=_REGISTRATION_STATUS
    ),
    "Signatory": _obj(name={"type": "string"}, title={"type": "string"}, updated_at=INSTANT),
    "Pdf": {"type": "string", "format": "binary", "description": "a PDF document"},
    "AttendanceRecorded": _obj(exam_id=ID, present={"type": "array", "items": ID}),
}
_CONFLICT = _obj(
    activity_id=ID,
    other_activity_id={**ID, "description": "always greater than activity_id"},
    overlap_starts_at=INSTANT,
    overlap_ends_at=INSTANT,
)

_EMPLOYER_REQUEST = _obj(
    id=ID,
    organisation_id=ID,
    reference={"type": "string"},
    step_id=ID,
    academic_year=YEARS,
    status={"enum": ["submitted", "approved", "referred", "rejected"]},
    submitted_at=INSTANT,
    rule_id={"anyOf": [ID, {"type": "null"}]},
    employees=_COUNT,
    total_hours=_COUNT,
    reasons={"type": "array", "items": _obj(code={"type": "string"}, message={"type": "string"})},
    enrolment_ids={"type": "array", "items": ID},
)

RESPONSES: dict[str, dict[str, Any]] = {
    "Health": _obj(status={"const": "alive"}),
    "Ready": _obj(status={"enum": ["ready", "not ready"]}, checks={"type": "object"}),
    "Metrics": {"type": "string", "description": "Prometheus text exposition format"},
    "OpenApi": {"type": "object"},
    "Created": _obj(id=ID),
    "CurriculumImported": _obj(
        programme_version_id=ID,
        steps={"type": "object", "additionalProperties": ID},
        groups={"type": "object", "additionalProperties": ID, "description": "keys STEP/GROUP"},
        choice_groups={
            "type": "object",
            "additionalProperties": ID,
            "description": "keys STEP/CHOICE_GROUP",
        },
        elements={"type": "object", "additionalProperties": ID},
    ),
    "Learner": _obj(
        id=ID,
        external_id={"type": "string"},
        first_name={"type": "string"},
        last_name={"type": "string"},
        email={"type": "string"},
    ),
    "EnrolmentCreated": _obj(id=ID, participations_created=_COUNT, waitlisted=_COUNT),
    "EnrolmentBatchCreated": _obj(
        ids={"type": "array", "items": ID}, participations_created=_COUNT, waitlisted=_COUNT
    ),
    "EnrolmentChanged": _obj(id=ID, participations_created=_COUNT, participations_removed=_COUNT),
    "EnrolmentCancelled": _obj(id=ID, participations_removed=_COUNT),
    "Enrolment": _obj(
        id=ID,
        learner_id=ID,
        step_id=ID,
        academic_year=YEARS,
        start_date=DATE,
        status={"enum": ["active", "cancelled"]},
        groups={"type": "array", "items": ID},
        choices={"type": "array", "items": ID},
        exemptions={"type": "array", "items": ID},
    ),
    "EnrolmentSummaryPage": _page(
        _obj(
            id=ID,
            step_id=ID,
            academic_year=YEARS,
            start_date=DATE,
            status={"enum": ["active", "cancelled"]},
        )
    ),
    "ParticipationPage": _page(_obj(activity_id=ID, status=_STATUS)),
    "ParticipantPage": _page(_obj(enrolment_id=ID, learner_id=ID, status=_STATUS)),
    "ConflictPage": _page(_CONFLICT),
    "StepConflictPage": _page(_obj(learner_id=ID, **_CONFLICT["properties"])),
    "ActivityCreated": _obj(id=ID, participations_created=_COUNT, waitlisted=_COUNT),
    "ActivityChanged": _obj(id=ID, participations_created=_COUNT, participations_removed=_COUNT),
    "ActivityDeleted": _obj(id=ID, participations_removed=_COUNT),
    "Activity": _obj(
        id=ID,
        element_id=ID,
        academic_year=YEARS,
        kind={"enum": ["lecture", "tutorial", "practical", "exam"]},
        group_id={"anyOf": [ID, {"type": "null"}]},
        starts_at=INSTANT,
        ends_at=INSTANT,
        capacity={"type": ["integer", "null"]},
    ),
    "Eligibility": _obj(
        enrolment_id=ID,
        activity_id=ID,
        eligible={"type": "boolean"},
        reasons={"type": "array", "items": {"type": "string"}},
        participation={"enum": ["active", "waitlisted", None]},
    ),
    **EXAM_RESPONSES,
    "OrganisationCreated": _obj(
        id=ID, token={"type": "string", "description": "employer token, shown only once"}
    ),
    "Organisation": _obj(
        id=ID,
        siret={"type": "string"},
        name={"type": "string"},
        contact_email={"type": "string"},
        created_at=INSTANT,
    ),
    "RequestSubmitted": _obj(
        id=ID, status={"const": "submitted"}, employees=_COUNT, total_hours=_COUNT
    ),
    "EmployerRequest": _EMPLOYER_REQUEST,
    "EmployerRequestPage": _page(_EMPLOYER_REQUEST),
    "ValidationRulePage": _page(
        _obj(
            id=ID,
            effective_from=DATE,
            max_hours_per_employee=_COUNT,
            max_employees_per_request=_COUNT,
            max_total_hours_per_organisation=_COUNT,
            allowed_step_ids={"anyOf": [{"type": "array", "items": ID}, {"type": "null"}]},
        )
    ),
    "ValidationRunResult": _obj(approved=_COUNT, referred=_COUNT),
    "Problem": {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {
                "type": "array",
                "items": _obj(field={"type": "string"}, message={"type": "string"}),
            },
        },
    },
}

_ERROR_TEXT = {
    400: "Malformed request",
    401: "Missing or unknown token",
    403: "Role not allowed",
    404: "Not found",
    409: "Conflict",
    413: "Too large",
    422: "Invalid input",
    429: "Too many requests",
    503: "Overloaded or not ready (see Retry-After)",
}


def _hoist_defs(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI resolves refs against the document: move local $defs into components."""
    schema = copy.deepcopy(schema)
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: (v.replace("#/$defs/", "#/components/schemas/") if k == "$ref" else fix(v))
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    for name in list(components):
        components[name] = fix(components[name])
    return fix(schema)


_IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "schema": {"type": "string", "maxLength": 255},
    "description": "A replay returns the first answer; same key with another body: 422; first "
    "still running: 409",
}


def _problem(status: int) -> dict[str, Any]:
    return {
        "description": _ERROR_TEXT[status],
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


_PAGE_PARAMETERS = [
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
    },
    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
]


def _operation(route: Route, method: str, op: Op) -> dict[str, Any]:
    """One operation: its answer, parameters, body, access and problem answers."""
    content_type = "text/plain" if op.response == "Metrics" else op.media
    operation: dict[str, Any] = {
        "summary": op.summary,
        "operationId": f"{method.lower()}_{route.resource.__name__}",
        "responses": {
            str(op.status): {
                "description": "OK",
                "content": {
                    content_type: {"schema": {"$ref": f"#/components/schemas/{op.response}"}}
                },
            }
        },
    }
    parameters = (
        [
            {"name": n, "in": "path", "required": True, "schema": ID}
            for n in re.findall(r"\{(\w+)\}", route.path)
        ]
        + [
            {"name": name, "in": "query", "required": required, "schema": schema}
            for name, schema, required in op.query
        ]
        + (_PAGE_PARAMETERS if op.paged else [])
    )
    if op.request:
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{op.request}"}}
            },
        }
    statuses = _access(operation, parameters, method, op)
    if parameters:
        operation["parameters"] = parameters
    for status in sorted(statuses):
        operation["responses"][str(status)] = _problem(status)
    return operation


def _access(
    operation: dict[str, Any], parameters: list[dict[str, Any]], method: str, op: Op
) -> set[int]:
    """Who may call the operation (security, description, the Idempotency-Key header) and the
    problem statuses that follow from it."""
    if op.roles:
        operation["security"] = [{"bearer": []}]
        operation["description"] = f"Roles: {', '.join(op.roles)}."
        statuses = {400, 401, 403, 503, *op.errors}
        if method == "POST":
            statuses |= {409, 422}
            parameters.append(_IDEMPOTENCY)
        return statuses
    if op.public:
        # Anonymous callers have no token to key a replay on: retries rely on the
        # operation's own unique keys instead.
        operation["security"] = []
        operation["description"] = "Public: no token."
        return {400, 503, *op.errors} | ({409, 422} if method == "POST" else set())
    return set(op.errors)


def spec(routes: Iterable[Route]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `routes`."""
    schemas: dict[str, Any] = {}
    for name, schema in REQUESTS.items():
        schemas[name] = _hoist_defs(schema, schemas)
    schemas.update(RESPONSES)
    paths = {
        route.path: {
            method.lower(): _operation(route, method, op) for method, op in route.ops.items()
        }
        for route in routes
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Campus Platform API",
            "version": __version__,
            "description": (
                "Enrolment and propagation, exam registration. "
                "Errors are RFC 9457 problem documents."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
