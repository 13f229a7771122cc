"""The errors a use case raises; the HTTP layer renders each as problem+json."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self


@dataclass(frozen=True)
class FieldError:
    """One input field and what is wrong with it."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class DomainError(Exception):
    """A use case refused its input; `status` is the HTTP status it maps to."""

    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []

    @classmethod
    def of(cls, field: str, message: str) -> Self:
        """One field, one message."""
        return cls(f"{field}: {message}", [FieldError(field, message)])


class InvalidInput(DomainError):
    status = 422
    title = "Invalid input"
    slug = "invalid-input"


class TooLarge(InvalidInput):
    status = 413
    title = "Request too large"
    slug = "too-large"


class NotFound(DomainError):
    status = 404
    title = "Not found"
    slug = "not-found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"
    slug = "forbidden"


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"
    slug = "unauthorized"


def collect(errors: list[FieldError], exc: type[DomainError] = InvalidInput) -> None:
    """Raise one error carrying every field error found, if any."""
    if errors:
        summary = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise exc(summary + more, errors)
