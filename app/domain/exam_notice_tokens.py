"""Signed exam-notice tokens: what each QR code on a notice carries.

A token names one registration, one exam and one learner, and carries an HMAC-SHA256 of them
under the site's key (`EXAM_TOKEN_KEY`): changing any id, or moving a token to another exam,
breaks the MAC. The text is short (QR version 3 or 4) and URL-safe:

    N1.<registration_id>.<exam_id>.<learner_id>.<mac: 22 base64url characters>
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

VERSION = "N1"
MAC_BYTES = 16  # 128 bits: far beyond guessing, and a short QR code
MAX_TOKEN_LENGTH = 128
_TOKEN = re.compile(r"^N1\.([1-9]\d{0,18})\.([1-9]\d{0,18})\.([1-9]\d{0,18})\.([A-Za-z0-9_-]{22})$")


class InvalidToken(ValueError):
    """The text is not a token this site signed."""


@dataclass(frozen=True)
class NoticeClaim:
    """What a notice token asserts."""

    registration_id: int
    exam_id: int
    learner_id: int


def _mac(key: str, message: str) -> str:
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()[:MAC_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(key: str, claim: NoticeClaim) -> str:
    """The token for `claim` under `key`."""
    message = f"{VERSION}.{claim.registration_id}.{claim.exam_id}.{claim.learner_id}"
    return f"{message}.{_mac(key, message)}"


def verify(key: str, token: str) -> NoticeClaim:
    """The claim `token` carries, if `key` signed it; InvalidToken otherwise."""
    match = _TOKEN.match(token) if len(token) <= MAX_TOKEN_LENGTH else None
    if match is None:
        raise InvalidToken("not an exam-notice token")
    message, _, mac = token.rpartition(".")
    if not hmac.compare_digest(_mac(key, message), mac):
        raise InvalidToken("the signature does not match")
    registration_id, exam_id, learner_id = (int(match.group(i)) for i in (1, 2, 3))
    if max(registration_id, exam_id, learner_id) >= 2**63:
        raise InvalidToken("not an exam-notice token")
    return NoticeClaim(registration_id, exam_id, learner_id)
