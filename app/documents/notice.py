"""The exam notice ("convocation"): one block per exam, each with the QR code of its token.

Every block has the same height and starts on a page only when it fits whole above the
footer: a block, its QR code included, is never split across two pages, whatever the number
of exams.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from app.documents.model import Notice, NoticeBlock
from app.documents.page import CONTENT_WIDTH, MARGIN, DocumentPage
from app.documents.qr import qr_image
from app.documents.text import DASH, period_name, time_range

BLOCK_HEIGHT = 40.0
BLOCK_GAP = 3.0
QR_SIZE = 32.0  # 41 modules of 0.78 mm: read by any phone at arm's length
TEXT_X = MARGIN + QR_SIZE + 8
TEXT_WIDTH = CONTENT_WIDTH - QR_SIZE - 12
LINE = 5.2
ADVICE = (
    "Présentez-vous 30 minutes avant le début de chaque épreuve, muni(e) de cette convocation",
    "et d'une pièce d'identité. Le code QR de chaque épreuve est vérifié à l'entrée de la salle.",
)


def render_notice(notice: Notice, zone: ZoneInfo) -> bytes:
    """The notice as PDF bytes, dates and times in the school's time zone `zone`."""
    learner = notice.learner
    pdf = DocumentPage(
        "Convocation aux examens",
        [
            period_name(notice.period_number, notice.academic_year),
            f"{learner.last_name.upper()} {learner.first_name} {DASH} "
            f"n° étudiant {learner.external_id}",
            f"Inscription n° {notice.registration_id} {DASH} {len(notice.blocks)} épreuve(s)",
        ],
    )
    pdf.add_page()
    pdf.set_font("helvetica", "", 9)
    for line in ADVICE:
        pdf.cell(CONTENT_WIDTH, 4.5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for block in notice.blocks:
        if pdf.room_left() < BLOCK_HEIGHT:
            pdf.add_page()
        _block(pdf, block, zone)
    if notice.deferred:
        _deferred(pdf, notice.deferred)
    return bytes(pdf.output())


def _block(pdf: DocumentPage, block: NoticeBlock, zone: ZoneInfo) -> None:
    top = pdf.get_y()
    sitting = block.sitting
    pdf.set_draw_color(120)
    pdf.rect(MARGIN, top, CONTENT_WIDTH, BLOCK_HEIGHT)
    pdf.image(qr_image(block.token), x=MARGIN + 4, y=top + 4, w=QR_SIZE, h=QR_SIZE)
    day, start, end = time_range(sitting.starts_at, sitting.supervised_hours, zone)
    # text() rather than cell(): five times cheaper, and the block's geometry is fixed anyway.
    baseline = top + 7.5
    pdf.set_font("helvetica", "B", 11)
    title = f"{sitting.element_code} {DASH} {sitting.element_label}"
    pdf.text(TEXT_X, baseline, pdf.fit(title, TEXT_WIDTH))
    pdf.set_font("helvetica", "", 10)
    for label, value in (
        ("Date", day),
        ("Horaire", f"{start} {DASH} {end} ({sitting.supervised_hours} h surveillée(s))"),
        ("Lieu", sitting.place),
        ("Modalité", sitting.modality),
    ):
        baseline += LINE + 0.3
        pdf.text(TEXT_X, baseline, pdf.fit(f"{label} : {value}", TEXT_WIDTH))
    pdf.set_font("courier", "", 7)
    pdf.text(
        TEXT_X, top + BLOCK_HEIGHT - 4, pdf.fit(f"Code de vérification : {block.token}", TEXT_WIDTH)
    )
    pdf.set_xy(MARGIN, top + BLOCK_HEIGHT + BLOCK_GAP)


def _deferred(pdf: DocumentPage, deferred: tuple[str, ...]) -> None:
    if pdf.room_left() < 2 * LINE:
        pdf.add_page()
    pdf.set_font("helvetica", "B", 10)
    pdf.cell(
        CONTENT_WIDTH,
        LINE,
        "Épreuves reportées à la session de rattrapage :",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("helvetica", "", 10)
    for label in deferred:
        if pdf.room_left() < LINE:
            pdf.add_page()
        pdf.cell(
            CONTENT_WIDTH, LINE, pdf.fit(f"• {label}", CONTENT_WIDTH), new_x="LMARGIN", new_y="NEXT"
        )
