"""The attendance certificate ("attestation de présence"), signed by the configured signatory.

The signatory's name and title come from the data (an admin sets them through the API): no
name is ever written into this code.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from app.documents.model import Certificate
from app.documents.page import CONTENT_WIDTH, MARGIN, PAGE_WIDTH, DocumentPage
from app.documents.text import DASH, long_date, period_name, printable, time_range


def render_certificate(certificate: Certificate, zone: ZoneInfo) -> bytes:
    """The certificate as PDF bytes, dates and times in the school's time zone `zone`."""
    sitting = certificate.sitting
    person = certificate.learner
    signatory = certificate.signatory
    day, start, end = time_range(sitting.starts_at, sitting.supervised_hours, zone)
    pdf = DocumentPage(
        "Attestation de présence",
        [
            period_name(certificate.period_number, certificate.academic_year),
            f"Inscription n° {certificate.registration_id}",
        ],
    )
    pdf.add_page()
    pdf.ln(10)
    pdf.set_font("helvetica", "", 12)
    text = (
        f"Je soussigné(e), {signatory.name}, {signatory.title}, atteste que "
        f"{person.first_name} {person.last_name.upper()} (n° étudiant {person.external_id}) "
        f"était présent(e) à l'épreuve {sitting.element_code} {DASH} {sitting.element_label}, "
        f"le {day} de {start} à {end}, lieu : {sitting.place} ({sitting.modality})."
    )
    pdf.multi_cell(CONTENT_WIDTH, 7, printable(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.multi_cell(
        CONTENT_WIDTH,
        7,
        "Cette attestation est délivrée pour servir et valoir ce que de droit.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(14)
    column = 80.0
    pdf.set_x(PAGE_WIDTH - MARGIN - column)
    pdf.cell(column, 7, f"Fait le {long_date(certificate.issued_on)}", new_x="LEFT", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("helvetica", "B", 12)
    pdf.cell(column, 7, pdf.fit(signatory.name, column), new_x="LEFT", new_y="NEXT")
    pdf.set_font("helvetica", "", 11)
    pdf.multi_cell(column, 6, printable(signatory.title), new_x="LEFT", new_y="NEXT")
    return bytes(pdf.output())
