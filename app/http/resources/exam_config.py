"""Exam configuration: periods, modalities, centres, exams, the certificate signatory."""

import falcon

from app.http.query import PAGE, refuse_unknown
from app.http.resources.base import Resource, page_params
from app.services import exam_config as service


class ExamPeriods(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, "NewExamPeriod")
        self.write(req, resp, lambda conn: service.create_period(conn, body), 201)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        refuse_unknown(req, PAGE)
        limit, after = page_params(req)
        self.read(req, resp, lambda conn: service.list_periods(conn, limit, after))


class ExamPeriod(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, period_id: int) -> None:
        refuse_unknown(req)
        self.read(req, resp, lambda conn: service.get_period(conn, period_id))

    def on_patch(self, req: falcon.Request, resp: falcon.Response, period_id: int) -> None:
        body = self.body(req, "ExamPeriodPatch")
        self.write(req, resp, lambda conn: service.update_period(conn, period_id, body))


class PeriodExams(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, period_id: int) -> None:
        refuse_unknown(req, PAGE)
        limit, after = page_params(req)
        self.read(req, resp, lambda conn: service.list_period_exams(conn, period_id, limit, after))


class ExamModalities(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, "NewExamModality")
        self.write(req, resp, lambda conn: service.create_modality(conn, body), 201)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        refuse_unknown(req, PAGE)
        limit, after = page_params(req)
        self.read(req, resp, lambda conn: service.list_modalities(conn, limit, after))


class ExamCentres(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, "NewExamCentre")
        self.write(req, resp, lambda conn: service.create_centre(conn, body), 201)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        refuse_unknown(req, PAGE)
        limit, after = page_params(req)
        self.read(req, resp, lambda conn: service.list_centres(conn, limit, after))


class Exams(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, "NewExam")
        self.write(req, resp, lambda conn: service.create_exam(conn, body), 201)


class Exam(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, exam_id: int) -> None:
        refuse_unknown(req)
        self.read(req, resp, lambda conn: service.exam_view(conn, exam_id))


class SignatorySetting(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        refuse_unknown(req)
        self.read(req, resp, service.get_signatory)

    def on_put(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, "Signatory")
        self.write(req, resp, lambda conn: service.set_signatory(conn, body))
