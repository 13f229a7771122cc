"""The attendance sheet ("feuille d'émargement") of one exam at one place.

Every registered learner, in alphabetical order, one row each with an empty signature box;
the column headings repeat on every page and a row never straddles two pages.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from app.documents.model import AttendanceSheet
from app.documents.page import CONTENT_WIDTH, MARGIN, DocumentPage
from app.documents.text import DASH, period_name, sort_key, time_range

ROW_HEIGHT = 11.0
HEAD_HEIGHT = 7.0
# (heading, width in mm); the signature box takes what is left.
COLUMNS = (("N°", 12.0), ("Nom", 50.0), ("Prénom", 42.0), ("N° étudiant", 30.0))
SIGNATURE_WIDTH = CONTENT_WIDTH - sum(width for _, width in COLUMNS)


def render_attendance_sheet(sheet: AttendanceSheet, zone: ZoneInfo) -> bytes:
    """The sheet as PDF bytes, dates and times in the school's time zone `zone`."""
    sitting = sheet.sitting
    day, start, end = time_range(sitting.starts_at, sitting.supervised_hours, zone)
    pdf = DocumentPage(
        "Feuille d'émargement",
        [
            period_name(sheet.period_number, sheet.academic_year),
            f"Épreuve : {sitting.element_code} {DASH} {sitting.element_label}",
            f"{day}, {start} {DASH} {end} {DASH} {sitting.place}",
            f"Inscrits : {len(sheet.learners)}",
        ],
    )
    pdf.add_page()
    _headings(pdf)
    learners = sorted(
        sheet.learners, key=lambda p: sort_key(p.last_name, p.first_name, p.external_id)
    )
    for number, person in enumerate(learners, start=1):
        if pdf.room_left() < ROW_HEIGHT:
            pdf.add_page()
            _headings(pdf)
        cells = (str(number), person.last_name.upper(), person.first_name, person.external_id)
        for text, (_, width) in zip(cells, COLUMNS, strict=True):
            pdf.cell(width, ROW_HEIGHT, pdf.fit(text, width - 2), border=1)
        pdf.cell(SIGNATURE_WIDTH, ROW_HEIGHT, "", border=1, new_x="LMARGIN", new_y="NEXT")
    if not learners:
        pdf.cell(CONTENT_WIDTH, ROW_HEIGHT, "Aucun inscrit.", new_x="LMARGIN", new_y="NEXT")
    if pdf.room_left() < 2 * ROW_HEIGHT:
        pdf.add_page()
    pdf.ln(4)
    pdf.set_font("helvetica", "", 10)
    pdf.cell(
        CONTENT_WIDTH,
        6,
        "Présents : ______     Absents : ______     Signature des surveillants :",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())


def _headings(pdf: DocumentPage) -> None:
    pdf.set_x(MARGIN)
    pdf.set_font("helvetica", "B", 10)
    pdf.set_fill_color(230)
    for heading, width in COLUMNS:
        pdf.cell(width, HEAD_HEIGHT, heading, border=1, fill=True)
    pdf.cell(
        SIGNATURE_WIDTH,
        HEAD_HEIGHT,
        "Signature",
        border=1,
        fill=True,
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("helvetica", "", 10)
