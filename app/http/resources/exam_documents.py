"""Exam documents as PDF (notice, attendance sheet, certificate) and notice verification.

The data is read in one short read transaction; the PDF is drawn after it, so a slow
rendering never holds a transaction open.
"""

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import falcon
from sqlalchemy import Connection

from app.documents.attendance_sheet import render_attendance_sheet
from app.documents.certificate import render_certificate
from app.documents.notice import render_notice
from app.domain.errors import DomainError
from app.http.query import query_id, refuse_unknown
from app.http.resources.base import Resource
from app.http.resources.exam_registrations import owned
from app.services import exam_documents as service
from app.services import transactions
from app.services.exam_attendance import record_attendance


class PdfResource(Resource):
    def pdf(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        load: Callable[[Connection], Any],
        render: Callable[[Any, ZoneInfo], bytes],
        filename: str,
    ) -> None:
        """Load the document's data in one read transaction, then answer it as a PDF."""
        data = transactions.read(req.context.db, load)
        resp.data = render(data, ZoneInfo(self.deps.settings.site_timezone))
        resp.content_type = "application/pdf"
        resp.set_header("Content-Disposition", f'inline; filename="{filename}"')


class NoticePdf(PdfResource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, registration_id: int) -> None:
        refuse_unknown(req)
        key = self.deps.settings.exam_token_key
        self.pdf(
            req,
            resp,
            owned(req, registration_id, lambda c: service.notice_for(c, registration_id, key)),
            render_notice,
            f"convocation-{registration_id}.pdf",
        )


class CertificatePdf(PdfResource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, registration_id: int) -> None:
        refuse_unknown(req, ["exam_id"])
        exam_id = query_id(req, "exam_id", required=True)
        assert exam_id is not None
        self.pdf(
            req,
            resp,
            owned(
                req, registration_id, lambda c: service.certificate_for(c, registration_id, exam_id)
            ),
            render_certificate,
            f"attestation-{registration_id}-{exam_id}.pdf",
        )


class AttendanceSheet(PdfResource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, exam_id: int) -> None:
        refuse_unknown(req, ["centre_id"])
        centre_id = query_id(req, "centre_id")
        self.pdf(
            req,
            resp,
            lambda c: service.sheet_for(c, exam_id, centre_id),
            render_attendance_sheet,
            f"emargement-{exam_id}-{centre_id or 'campus'}.pdf",
        )


class Attendance(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, exam_id: int) -> None:
        body = self.body(req, "ExamAttendance")
        self.write(req, resp, lambda conn: record_attendance(conn, exam_id, body))


class VerifyNotice(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        refuse_unknown(req, ["token"])
        token = req.get_param("token")
        if not token:
            raise DomainError.of("token", "is required: the text of the notice's QR code")
        key = self.deps.settings.exam_token_key
        self.read(req, resp, lambda conn: service.verify_notice_token(conn, key, token))
