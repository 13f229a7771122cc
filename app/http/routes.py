"""The route table: the app is built from it and /openapi.json describes it, so they agree."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.http.operations import Op
from app.http.resources import activities, conflicts, curricula, enrolments, learners, service
from app.http.resources.base import Resource
from app.http.schemas import MAX_ID, YEARS

STAFF = ("admin", "staff")
READERS = ("admin", "staff", "student")


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
    Route("/healthz", service.Health, {"GET": Op("The process is alive", "Health")}),
    Route(
        "/readyz",
        service.Ready,
        {"GET": Op("Database reachable and migrations current", "Ready", errors=(503,))},
    ),
    Route("/metrics", service.Metrics, {"GET": Op("Prometheus metrics (text format)", "Metrics")}),
    Route("/openapi.json", service.OpenApi, {"GET": Op("This contract", "OpenApi")}),
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
            ),
        },
    ),
    Route(
        "/api/v1/learners",
        learners.Learners,
        {
            "POST": Op("Create a learner", "Created", 201, "NewLearner", STAFF, (409, 422)),
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
            ),
            "PATCH": Op(
                "Replace groups, choices or exemptions, or move the start date; propagates",
                "EnrolmentChanged",
                200,
                "EnrolmentPatch",
                STAFF,
                (404, 409, 422),
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
            ),
        },
    ),
    Route(
        "/api/v1/activities/{activity_id}",
        activities.Activity,
        {
            "GET": Op("One activity", "Activity", roles=READERS, errors=(404,)),
            "PATCH": Op(
                "Change group, times or capacity; propagates",
                "ActivityChanged",
                200,
                "ActivityPatch",
                STAFF,
                (404, 409, 422),
            ),
            "DELETE": Op(
                "Remove an activity that has not started",
                "ActivityDeleted",
                200,
                None,
                STAFF,
                (404, 409),
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
            ),
        },
    ),
)
