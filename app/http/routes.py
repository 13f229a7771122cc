"""The route table: the app is built from it and /openapi.json describes it, so they agree."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.http.audiences import EXTRANET, INTRANET, PUBLIC
from app.http.operations import Op
from app.http.resources import (
    activities,
    conflicts,
    curricula,
    employer_requests,
    enrolments,
    exam_config,
    exam_documents,
    exam_registrations,
    learners,
    organisations,
    service,
    validation_rules,
)
from app.http.resources.base import Resource
from app.http.schemas import ID, MAX_ID, YEARS

STAFF = ("admin", "staff")
READERS = ("admin", "staff", "student")
ADMIN = ("admin",)
PDF = "application/pdf"
EMPLOYER_READERS = ("admin", "staff", "employer")


@dataclass(frozen=True)
class Route:
    path: str
    resource: type[Resource]
    ops: dict[str, Op] = field(default_factory=dict)

    @property
    def template(self) -> str:
        """The Falcon template: every `{..._id}` is a positive 64-bit integer, else 404."""
        return re.sub(r"\{(\w+_id)\}", rf"{{\1:int(min=1, max={MAX_ID})}}", self.path)


ROUTES: tuple[Route, ...] = (
    Route(
        "/healthz", service.Health, {"GET": Op("The process is alive", "Health", audience=PUBLIC)}
    ),
    Route(
        "/readyz",
        service.Ready,
        {
            "GET": Op(
                "Database reachable and migrations current", "Ready", errors=(503,), audience=PUBLIC
            )
        },
    ),
    Route(
        "/metrics",
        service.Metrics,
        {"GET": Op("Prometheus metrics (text format)", "Metrics", audience=INTRANET)},
    ),
    Route(
        "/openapi.json", service.OpenApi, {"GET": Op("This contract", "OpenApi", audience=PUBLIC)}
    ),
    Route(
        "/api/v1/curricula",
        curricula.Curricula,
        {
            "POST": Op(
                "Import one programme version tree; re-posting the same codes updates labels and "
                "adds what is new",
                "CurriculumImported",
                201,
                "Curriculum",
                STAFF,
                (409, 422),
                audience=INTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/learners",
        learners.Learners,
        {
            "POST": Op(
                "Create a learner",
                "Created",
                201,
                "NewLearner",
                STAFF,
                (409, 422),
                audience=INTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/learners/{learner_id}",
        learners.Learner,
        {
            "GET": Op(
                "One learner (a student reads only their own)",
                "Learner",
                roles=READERS,
                errors=(404,),
                audience=EXTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/learners/{learner_id}/enrolments",
        learners.LearnerEnrolments,
        {
            "GET": Op(
                "A learner's enrolments",
                "EnrolmentSummaryPage",
                roles=READERS,
                errors=(404, 422),
                paged=True,
                audience=EXTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/enrolments",
        enrolments.Enrolments,
        {
            "POST": Op(
                "Enrol a learner in a step for a year; propagates participations",
                "EnrolmentCreated",
                201,
                "NewEnrolment",
                STAFF,
                (409, 413, 422),
                audience=INTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/enrolments/batch",
        enrolments.EnrolmentBatch,
        {
            "POST": Op(
                "Enrol up to 10,000 learners at once, all or nothing",
                "EnrolmentBatchCreated",
                201,
                "EnrolmentBatch",
                STAFF,
                (409, 413, 422),
                audience=INTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/enrolments/{enrolment_id}",
        enrolments.Enrolment,
        {
            "GET": Op(
                "One enrolment with its groups, choices and exemptions",
                "Enrolment",
                roles=READERS,
                errors=(404,),
                audience=EXTRANET,
            ),
            "PATCH": Op(
                "Replace groups, choices or exemptions, or move the start date; propagates",
                "EnrolmentChanged",
                200,
                "EnrolmentPatch",
                STAFF,
                (404, 409, 422),
                audience=INTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/enrolments/{enrolment_id}/cancel",
        enrolments.EnrolmentCancel,
        {
            "POST": Op(
                "Cancel; participations in activities not started are removed, history stays",
                "EnrolmentCancelled",
                200,
                None,
                STAFF,
                (404, 409),
                audience=INTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/enrolments/{enrolment_id}/participations",
        enrolments.EnrolmentParticipations,
        {
            "GET": Op(
                "The enrolment's participations",
                "ParticipationPage",
                roles=READERS,
                errors=(404, 422),
                paged=True,
                audience=EXTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/enrolments/{enrolment_id}/eligibility/{activity_id}",
        enrolments.EnrolmentEligibility,
        {
            "GET": Op(
                "Is this enrolment eligible for that activity, and if not, which rules it breaks",
                "Eligibility",
                roles=READERS,
                errors=(404,),
                audience=EXTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/enrolments/{enrolment_id}/conflicts",
        conflicts.EnrolmentConflicts,
        {
            "GET": Op(
                "Pairs of activities where the enrolment's learner holds a seat and whose times "
                "overlap (over all the learner's active enrolments)",
                "ConflictPage",
                roles=READERS,
                errors=(404, 422),
                paged=True,
                audience=EXTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/steps/{step_id}/conflicts",
        conflicts.StepConflicts,
        {
            "GET": Op(
                "For every learner actively enrolled in the step that year, the pairs of their "
                "seated activities whose times overlap",
                "StepConflictPage",
                roles=STAFF,
                errors=(404, 422),
                paged=True,
                query=(("academic_year", YEARS, True),),
                audience=INTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/activities",
        activities.Activities,
        {
            "POST": Op(
                "Create a teaching activity; propagates participations",
                "ActivityCreated",
                201,
                "NewActivity",
                STAFF,
                (409, 422),
                audience=INTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/activities/{activity_id}",
        activities.Activity,
        {
            "GET": Op("One activity", "Activity", roles=READERS, errors=(404,), audience=EXTRANET),
            "PATCH": Op(
                "Change group, times or capacity; propagates",
                "ActivityChanged",
                200,
                "ActivityPatch",
                STAFF,
                (404, 409, 422),
                audience=INTRANET,
            ),
            "DELETE": Op(
                "Remove an activity that has not started",
                "ActivityDeleted",
                200,
                None,
                STAFF,
                (404, 409),
                audience=INTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/activities/{activity_id}/participants",
        activities.ActivityParticipants,
        {
            "GET": Op(
                "Who takes part, seated and waitlisted",
                "ParticipantPage",
                roles=STAFF,
                errors=(404, 422),
                paged=True,
                audience=INTRANET,
            ),
        },
    ),
    # --- exam registration -------------------------------------------------------------------
    Route(
        "/api/v1/exam-periods",
        exam_config.ExamPeriods,
        {
            "POST": Op(
                "Create an exam period (1, 2, or 3 = resit) of an academic year; status planned",
                "ExamPeriod",
                201,
                "NewExamPeriod",
                STAFF,
                (409, 422),
                audience=INTRANET,
            ),
            "GET": Op(
                "Every exam period",
                "ExamPeriodPage",
                roles=READERS,
                errors=(422,),
                paged=True,
                audience=EXTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/exam-periods/{period_id}",
        exam_config.ExamPeriod,
        {
            "GET": Op(
                "One exam period", "ExamPeriod", roles=READERS, errors=(404, 422), audience=EXTRANET
            ),
            "PATCH": Op(
                "Open or close a period, or move its dates; an archived period refuses (409)",
                "ExamPeriod",
                200,
                "ExamPeriodPatch",
                STAFF,
                (404, 409, 422),
                audience=INTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/exam-periods/{period_id}/exams",
        exam_config.PeriodExams,
        {
            "GET": Op(
                "The exams of a period, with their allowed modalities",
                "ExamPage",
                roles=READERS,
                errors=(404, 422),
                paged=True,
                audience=EXTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/exam-modalities",
        exam_config.ExamModalities,
        {
            "POST": Op(
                "Create a modality with its fixed fee and fee per supervised hour (cents)",
                "Created",
                201,
                "NewExamModality",
                STAFF,
                (409, 422),
                audience=INTRANET,
            ),
            "GET": Op(
                "Every modality and its fees",
                "ExamModalityPage",
                roles=READERS,
                errors=(422,),
                paged=True,
                audience=EXTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/exam-centres",
        exam_config.ExamCentres,
        {
            "POST": Op(
                "Create a centre of a modality that has centres, with its capacity",
                "Created",
                201,
                "NewExamCentre",
                STAFF,
                (409, 422),
                audience=INTRANET,
            ),
            "GET": Op(
                "Every centre",
                "ExamCentrePage",
                roles=READERS,
                errors=(422,),
                paged=True,
                audience=EXTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/exams",
        exam_config.Exams,
        {
            "POST": Op(
                "Create the exam of an element in a period, with its allowed modalities",
                "Created",
                201,
                "NewExam",
                STAFF,
                (409, 422),
                audience=INTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/exams/{exam_id}",
        exam_config.Exam,
        {"GET": Op("One exam", "Exam", roles=READERS, errors=(404, 422), audience=EXTRANET)},
    ),
    Route(
        "/api/v1/exams/{exam_id}/attendance",
        exam_documents.Attendance,
        {
            "POST": Op(
                "Record who sat the exam (final registrations), from the signed sheet",
                "AttendanceRecorded",
                200,
                "ExamAttendance",
                STAFF,
                (404, 409, 422),
                audience=INTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/exams/{exam_id}/attendance-sheet.pdf",
        exam_documents.AttendanceSheet,
        {
            "GET": Op(
                "The attendance sheet of an exam at a centre (without centre_id: the "
                "registrations without a centre), sorted, paginated, with signature boxes",
                "Pdf",
                roles=STAFF,
                errors=(404, 422),
                media=PDF,
                query=(("centre_id", ID, False),),
                audience=INTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/exam-registrations",
        exam_registrations.Registrations,
        {
            "POST": Op(
                "Register a learner (a student: themself) for an open period; status draft",
                "ExamRegistration",
                201,
                "NewExamRegistration",
                READERS,
                (409, 422),
                audience=EXTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/exam-registrations/{registration_id}",
        exam_registrations.Registration,
        {
            "GET": Op(
                "One registration with its exams, deferrals, status and fee",
                "ExamRegistration",
                roles=READERS,
                errors=(404, 422),
                audience=EXTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/learners/{learner_id}/exam-registrations",
        exam_registrations.LearnerRegistrations,
        {
            "GET": Op(
                "A learner's exam registrations",
                "ExamRegistrationPage",
                roles=READERS,
                errors=(404, 422),
                paged=True,
                audience=EXTRANET,
            ),
        },
    ),
    *(
        Route(
            f"/api/v1/exam-registrations/{{registration_id}}/{action}",
            resource,
            {
                "POST": Op(
                    summary,
                    "ExamRegistration",
                    200,
                    request,
                    roles,
                    (404, 409, 422),
                    audience=audience,
                )
            },
        )
        for action, resource, summary, request, roles, audience in (
            (
                "submit",
                exam_registrations.Submit,
                "draft → submitted; the fee is computed now (fixed + per hour * hours sat)",
                None,
                READERS,
                EXTRANET,
            ),
            ("verify", exam_registrations.Verify, "submitted → verified", None, STAFF, INTRANET),
            (
                "reject",
                exam_registrations.Reject,
                "submitted or verified → rejected, with a reason",
                "ExamRejection",
                STAFF,
                INTRANET,
            ),
            (
                "cancel",
                exam_registrations.Cancel,
                "draft, submitted or verified → cancelled",
                None,
                READERS,
                EXTRANET,
            ),
            (
                "payments",
                exam_registrations.Payments,
                "Record the payment (amount = fee): verified → paid → final; the same "
                "reference again changes nothing",
                "ExamPayment",
                STAFF,
                INTRANET,
            ),
        )
    ),
    Route(
        "/api/v1/exam-registrations/{registration_id}/notice.pdf",
        exam_documents.NoticePdf,
        {
            "GET": Op(
                "The exam notice of a final registration: one block per exam with the QR code "
                "of a signed token; a block is never split across pages",
                "Pdf",
                roles=READERS,
                errors=(404, 409, 422),
                media=PDF,
                audience=EXTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/exam-registrations/{registration_id}/certificate.pdf",
        exam_documents.CertificatePdf,
        {
            "GET": Op(
                "The attendance certificate of an exam sat, signed by the configured signatory",
                "Pdf",
                roles=READERS,
                errors=(404, 409, 422),
                media=PDF,
                query=(("exam_id", ID, True),),
                audience=EXTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/exam-notices/verify",
        exam_documents.VerifyNotice,
        {
            "GET": Op(
                "Check the token of a notice's QR code: the registration, exam and learner",
                "NoticeVerification",
                public=True,
                errors=(422,),
                query=(("token", {"type": "string", "minLength": 1, "maxLength": 256}, True),),
                audience=PUBLIC,
            ),
        },
    ),
    Route(
        "/api/v1/settings/signatory",
        exam_config.SignatorySetting,
        {
            "GET": Op(
                "The signatory of certificates",
                "Signatory",
                roles=STAFF,
                errors=(404, 422),
                audience=INTRANET,
            ),
            "PUT": Op(
                "Set the signatory (name, title); the next certificate uses it",
                "Signatory",
                200,
                "Signatory",
                ADMIN,
                (422,),
                audience=INTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/organisations",
        organisations.Organisations,
        {
            "POST": Op(
                "Sign an organisation up (SIRET checked); answers its employer token, once",
                "OrganisationCreated",
                201,
                "NewOrganisation",
                errors=(409, 413, 422),
                public=True,
                audience=PUBLIC,
            ),
        },
    ),
    Route(
        "/api/v1/organisations/{organisation_id}",
        organisations.Organisation,
        {
            "GET": Op(
                "One organisation (an employer reads only its own)",
                "Organisation",
                roles=EMPLOYER_READERS,
                errors=(404,),
                audience=EXTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/organisations/{organisation_id}/requests",
        organisations.OrganisationRequests,
        {
            "GET": Op(
                "An organisation's requests",
                "EmployerRequestPage",
                roles=EMPLOYER_READERS,
                errors=(404, 422),
                paged=True,
                audience=EXTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/requests",
        employer_requests.EmployerRequests,
        {
            "POST": Op(
                "Submit a request enrolling 1 to 5,000 employees, with their hours",
                "RequestSubmitted",
                201,
                "NewEmployerRequest",
                ("employer",),
                (409, 413, 422),
                audience=EXTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/requests/validate",
        employer_requests.RequestValidation,
        {
            "POST": Op(
                "Run the automatic validator over submitted requests, oldest first",
                "ValidationRunResult",
                200,
                "ValidationRun",
                STAFF,
                (409, 413, 422),
                audience=INTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/requests/{request_id}",
        employer_requests.EmployerRequest,
        {
            "GET": Op(
                "One request with its status, reasons and enrolments",
                "EmployerRequest",
                roles=EMPLOYER_READERS,
                errors=(404,),
                audience=EXTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/requests/{request_id}/decision",
        employer_requests.RequestDecision,
        {
            "POST": Op(
                "Approve or reject a referred request",
                "EmployerRequest",
                200,
                "Decision",
                STAFF,
                (404, 409, 413, 422),
                audience=INTRANET,
            ),
        },
    ),
    Route(
        "/api/v1/validation-rules",
        validation_rules.ValidationRules,
        {
            "POST": Op(
                "Publish a validation rule version from a date (today or later)",
                "Created",
                201,
                "NewValidationRule",
                STAFF,
                (413, 422),
                audience=INTRANET,
            ),
            "GET": Op(
                "Every validation rule version",
                "ValidationRulePage",
                roles=STAFF,
                audience=INTRANET,
            ),
        },
    ),
)
