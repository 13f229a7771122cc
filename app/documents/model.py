"""What each document shows, as plain data the services build and the renderers print."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class Person:
    """A learner as documents name them."""

    learner_id: int
    external_id: str
    first_name: str
    last_name: str


@dataclass(frozen=True)
class Sitting:
    """One exam as a learner sits it: when, where, how."""

    exam_id: int
    element_code: str
    element_label: str
    starts_at: datetime
    supervised_hours: int
    place: str
    modality: str


@dataclass(frozen=True)
class NoticeBlock:
    """One exam on a notice, with the signed token its QR code carries."""

    sitting: Sitting
    token: str


@dataclass(frozen=True)
class Notice:
    """The exam notice ("convocation") of one registration."""

    registration_id: int
    learner: Person
    academic_year: str
    period_number: int
    blocks: tuple[NoticeBlock, ...]
    deferred: tuple[str, ...] = ()


@dataclass(frozen=True)
class AttendanceSheet:
    """The attendance sheet ("feuille d'émargement") of one exam at one place."""

    academic_year: str
    period_number: int
    sitting: Sitting
    learners: tuple[Person, ...]
    centre_id: int | None = None


@dataclass(frozen=True)
class Signatory:
    """Who signs certificates: configuration, never code."""

    name: str
    title: str


@dataclass(frozen=True)
class Certificate:
    """The attendance certificate ("attestation de présence") of one learner at one exam."""

    registration_id: int
    learner: Person
    academic_year: str
    period_number: int
    sitting: Sitting
    signatory: Signatory
    issued_on: date
