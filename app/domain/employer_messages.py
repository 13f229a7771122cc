"""The texts of the messages sent to employers (subject, body), built from plain values."""

from __future__ import annotations

from collections.abc import Sequence


def signup_confirmation(name: str, siret: str, organisation_id: int) -> tuple[str, str]:
    """Sent when an organisation signs up."""
    return (
        f"Campus: {name} is registered",
        f"Your organisation {name} (SIRET {siret}) is registered as organisation "
        f"{organisation_id}.\nKeep the API token you were given: it is shown only once.\n",
    )


def request_received(
    reference: str, request_id: int, employees: int, hours: int
) -> tuple[str, str]:
    """Sent when a request is submitted."""
    return (
        f"Campus: request {reference} received",
        f"Request {reference} (id {request_id}) for {employees} employees and {hours} hours "
        "is received. You will get a message once it is judged.\n",
    )


def request_decided(
    reference: str, request_id: int, status: str, reasons: Sequence[str]
) -> tuple[str, str]:
    """Sent when a request is approved, referred to staff or rejected."""
    lines = "".join(f"- {reason}\n" for reason in reasons)
    outcome = {
        "approved": "is approved; your employees are enrolled",
        "referred": "is referred to our staff, who will decide",
        "rejected": "is rejected",
    }[status]
    return (
        f"Campus: request {reference} {status}",
        f"Request {reference} (id {request_id}) {outcome}.\n" + (f"\n{lines}" if lines else ""),
    )
