"""JSON Schemas of the request bodies: checked at the edge and published in /openapi.json."""

from __future__ import annotations

from typing import Any

from app.domain.employer_limits import MAX_EMPLOYEES_PER_REQUEST, MAX_HOURS_PER_EMPLOYEE

MAX_ID = 2**63 - 1
ID: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
IDS: dict[str, Any] = {"type": "array", "items": ID, "maxItems": 1000}
CODE: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 64,
    "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$",
}
LABEL: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 255}
YEARS: dict[str, Any] = {"type": "string", "pattern": r"^\d{4}-\d{4}$", "examples": ["2026-2027"]}
DATE: dict[str, Any] = {"type": "string", "format": "date", "examples": ["2026-09-01"]}
INSTANT: dict[str, Any] = {
    "type": "string",
    "format": "date-time",
    "examples": ["2026-09-01T08:00:00+02:00"],
}
CAPACITY: dict[str, Any] = {"type": ["integer", "null"], "minimum": 0, "maximum": 1_000_000}


def _object(
    properties: dict[str, Any], required: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required or [],
        "additionalProperties": False,
        **extra,
    }


ELEMENT: dict[str, Any] = _object(
    {
        "code": CODE,
        "label": LABEL,
        "kind": {"enum": ["year", "semester", "block", "unit", "course", "module", "option"]},
        "optional": {"type": "boolean"},
        "choice_group": {"anyOf": [CODE, {"type": "null"}]},
        "ects": {"type": ["integer", "null"], "minimum": 0, "maximum": 120},
        "hours": {"type": ["integer", "null"], "minimum": 0, "maximum": 100_000},
        "children": {"type": "array", "items": {"$ref": "#/$defs/element"}, "maxItems": 500},
    },
    ["code", "label", "kind", "optional"],
)

CURRICULUM: dict[str, Any] = _object(
    {
        "programme": _object({"code": CODE, "label": LABEL}, ["code", "label"]),
        "version": _object(
            {"code": CODE, "label": LABEL, "curriculum_period": YEARS},
            ["code", "label", "curriculum_period"],
        ),
        "steps": {
            "type": "array",
            "minItems": 1,
            "maxItems": 50,
            "items": _object(
                {
                    "code": CODE,
                    "label": LABEL,
                    "year_index": {"type": "integer", "minimum": 1, "maximum": 10},
                    "groups": {
                        "type": "array",
                        "maxItems": 500,
                        "items": _object({"code": CODE, "label": LABEL}, ["code", "label"]),
                    },
                    "choice_groups": {
                        "type": "array",
                        "maxItems": 500,
                        "items": _object(
                            {
                                "code": CODE,
                                "min": {"type": "integer", "minimum": 0, "maximum": 100},
                                "max": {"type": "integer", "minimum": 1, "maximum": 100},
                            },
                            ["code", "min", "max"],
                        ),
                    },
                    "elements": {
                        "type": "array",
                        "maxItems": 500,
                        "items": {"$ref": "#/$defs/element"},
                    },
                },
                ["code", "label", "year_index"],
            ),
        },
    },
    ["programme", "version", "steps"],
    **{"$defs": {"element": ELEMENT}},
)

LEARNER: dict[str, Any] = _object(
    {
        "external_id": {"type": "string", "minLength": 1, "maxLength": 64},
        "first_name": {"type": "string", "minLength": 1, "maxLength": 128},
        "last_name": {"type": "string", "minLength": 1, "maxLength": 128},
        "email": {"type": "string", "minLength": 3, "maxLength": 254},
    },
    ["external_id", "first_name", "last_name", "email"],
)

ENROLMENT: dict[str, Any] = _object(
    {
        "learner_id": ID,
        "step_id": ID,
        "academic_year": YEARS,
        "start_date": DATE,
        "groups": IDS,
        "choices": IDS,
        "exemptions": IDS,
    },
    ["learner_id", "step_id", "academic_year", "start_date"],
)

MAX_BATCH = 10_000
ENROLMENT_BATCH: dict[str, Any] = _object(
    {"enrolments": {"type": "array", "minItems": 1, "maxItems": MAX_BATCH, "items": ENROLMENT}},
    ["enrolments"],
)

ENROLMENT_PATCH: dict[str, Any] = _object(
    {"groups": IDS, "choices": IDS, "exemptions": IDS, "start_date": DATE}, minProperties=1
)

ACTIVITY: dict[str, Any] = _object(
    {
        "element_id": ID,
        "academic_year": YEARS,
        "kind": {"enum": ["lecture", "tutorial", "practical", "exam"]},
        "group_id": {"anyOf": [ID, {"type": "null"}]},
        "starts_at": INSTANT,
        "ends_at": INSTANT,
        "capacity": CAPACITY,
    },
    ["element_id", "academic_year", "kind", "starts_at", "ends_at"],
)

ACTIVITY_PATCH: dict[str, Any] = _object(
    {
        "group_id": {"anyOf": [ID, {"type": "null"}]},
        "starts_at": INSTANT,
        "ends_at": INSTANT,
        "capacity": CAPACITY,
    },
    minProperties=1,
)

# --- exam registration -------------------------------------------------------------------------

MAX_FIXED_FEE_CENTS = 100_000_000  # one million euros: beyond it, a typo
MAX_FEE_PER_HOUR_CENTS = 10_000_000
MAX_EXAMS_PER_REGISTRATION = 200
EXAM_IDS: dict[str, Any] = {
    "type": "array",
    "items": ID,
    "maxItems": MAX_EXAMS_PER_REGISTRATION,
}
# Free text printed on documents: no control characters (PostgreSQL refuses NUL in text, and
# a PDF has no use for the others); a reason may span lines.
NAME_TEXT: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 255,
    "pattern": "^[^\\u0000-\\u001f\\u007f]+$",
}
TEXT_1000: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 1000,
    "pattern": "^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]+$",
}

EXAM_PERIOD: dict[str, Any] = _object(
    {
        "academic_year": YEARS,
        "number": {"type": "integer", "enum": [1, 2, 3], "description": "3 is the resit period"},
        "opens_at": INSTANT,
        "closes_at": INSTANT,
    },
    ["academic_year", "number", "opens_at", "closes_at"],
)

EXAM_PERIOD_PATCH: dict[str, Any] = _object(
    {"status": {"enum": ["open", "closed"]}, "opens_at": INSTANT, "closes_at": INSTANT},
    minProperties=1,
)

EXAM_MODALITY: dict[str, Any] = _object(
    {
        "code": CODE,
        "label": NAME_TEXT,
        "fixed_fee_cents": {"type": "integer", "minimum": 0, "maximum": MAX_FIXED_FEE_CENTS},
        "fee_per_hour_cents": {"type": "integer", "minimum": 0, "maximum": MAX_FEE_PER_HOUR_CENTS},
        "needs_centre": {"type": "boolean"},
    },
    ["code", "label", "fixed_fee_cents", "fee_per_hour_cents", "needs_centre"],
)

EXAM_CENTRE: dict[str, Any] = _object(
    {
        "code": CODE,
        "label": NAME_TEXT,
        "modality_id": ID,
        "capacity": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
    },
    ["code", "label", "modality_id", "capacity"],
)

EXAM: dict[str, Any] = _object(
    {
        "element_id": ID,
        "period_id": ID,
        "supervised_hours": {"type": "integer", "minimum": 1, "maximum": 24},
        "starts_at": INSTANT,
        "modality_ids": {"type": "array", "items": ID, "minItems": 1, "maxItems": 20},
        "room": {"anyOf": [NAME_TEXT, {"type": "null"}]},
        "capacity": CAPACITY,
    },
    ["element_id", "period_id", "supervised_hours", "starts_at", "modality_ids"],
)

EXAM_REGISTRATION: dict[str, Any] = _object(
    {
        "learner_id": ID,
        "period_id": ID,
        "modality_id": ID,
        "centre_id": {"anyOf": [ID, {"type": "null"}]},
        "exam_ids": EXAM_IDS,
        "deferred_exam_ids": EXAM_IDS,
    },
    ["learner_id", "period_id", "modality_id", "exam_ids"],
)

EXAM_REJECTION: dict[str, Any] = _object({"reason": TEXT_1000}, ["reason"])

EXAM_PAYMENT: dict[str, Any] = _object(
    {
        "amount_cents": {"type": "integer", "minimum": 0, "maximum": 10**13},
        "reference": {
            "type": "string",
            "minLength": 1,
            "maxLength": 128,
            "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.:/\-]*$",
        },
    },
    ["amount_cents", "reference"],
)

ATTENDANCE: dict[str, Any] = _object(
    {"present": {"type": "array", "items": ID, "minItems": 1, "maxItems": 10_000}}, ["present"]
)

SIGNATORY: dict[str, Any] = _object({"name": NAME_TEXT, "title": NAME_TEXT}, ["name", "title"])
# --- employer requests ----------------------------------------------------------------------

HOURS: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": MAX_HOURS_PER_EMPLOYEE}

ORGANISATION: dict[str, Any] = _object(
    {
        # [0-9], not \d: a SIRET is ASCII digits only.
        "siret": {"type": "string", "pattern": "^[0-9]{14}$", "examples": ["73282932000074"]},
        "name": LABEL,
        "contact_email": {"type": "string", "minLength": 3, "maxLength": 254},
    },
    ["siret", "name", "contact_email"],
)

EMPLOYEE: dict[str, Any] = _object(
    {**LEARNER["properties"], "hours": HOURS},
    ["external_id", "first_name", "last_name", "email", "hours"],
)

EMPLOYER_REQUEST: dict[str, Any] = _object(
    {
        "reference": {"type": "string", "minLength": 1, "maxLength": 64},
        "step_id": ID,
        "academic_year": YEARS,
        "start_date": DATE,
        "employees": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_EMPLOYEES_PER_REQUEST,
            "items": EMPLOYEE,
        },
    },
    ["reference", "step_id", "academic_year", "start_date", "employees"],
)

VALIDATION_RULE: dict[str, Any] = _object(
    {
        "effective_from": DATE,
        "max_hours_per_employee": HOURS,
        "max_employees_per_request": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_EMPLOYEES_PER_REQUEST,
        },
        "max_total_hours_per_organisation": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        "allowed_step_ids": {"anyOf": [{**IDS, "minItems": 1}, {"type": "null"}]},
    },
    [
        "effective_from",
        "max_hours_per_employee",
        "max_employees_per_request",
        "max_total_hours_per_organisation",
    ],
)

VALIDATION_RUN: dict[str, Any] = _object(
    {"limit": {"type": "integer", "minimum": 1, "maximum": 10_000}}
)

DECISION: dict[str, Any] = _object(
    {
        "decision": {"enum": ["approve", "reject"]},
        "reason": {"type": "string", "minLength": 1, "maxLength": 500},
    },
    ["decision", "reason"],
)

REQUESTS: dict[str, dict[str, Any]] = {
    "Curriculum": CURRICULUM,
    "NewLearner": LEARNER,
    "NewEnrolment": ENROLMENT,
    "EnrolmentBatch": ENROLMENT_BATCH,
    "EnrolmentPatch": ENROLMENT_PATCH,
    "NewActivity": ACTIVITY,
    "ActivityPatch": ACTIVITY_PATCH,
    "NewExamPeriod": EXAM_PERIOD,
    "ExamPeriodPatch": EXAM_PERIOD_PATCH,
    "NewExamModality": EXAM_MODALITY,
    "NewExamCentre": EXAM_CENTRE,
    "NewExam": EXAM,
    "NewExamRegistration": EXAM_REGISTRATION,
    "ExamRejection": EXAM_REJECTION,
    "ExamPayment": EXAM_PAYMENT,
    "Signatory": SIGNATORY,
    "ExamAttendance": ATTENDANCE,
    "NewOrganisation": ORGANISATION,
    "NewEmployerRequest": EMPLOYER_REQUEST,
    "NewValidationRule": VALIDATION_RULE,
    "ValidationRun": VALIDATION_RUN,
    "Decision": DECISION,
}
