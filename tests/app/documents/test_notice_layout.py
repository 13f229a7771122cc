"""The notice's layout, whatever the number of exams: every QR code stands whole on its page,
next to its own text block, and decodes to its own token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.documents.model import Notice, NoticeBlock, Person, Sitting
from app.documents.notice import render_notice
from app.documents.page import BOTTOM, MARGIN
from app.domain.exam_notice_tokens import NoticeClaim, sign, verify
from tests.app.pdf_inspect import inspect_pdf

KEY = "a test key that is long enough for HMAC"
ZONE = ZoneInfo("Europe/Paris")
MM = 72 / 25.4


def notice(exams: int, label: str = "Algorithmique et structures de données") -> Notice:
    start = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)
    blocks = tuple(
        NoticeBlock(
            Sitting(
                exam_id=1000 + i,
                element_code=f"UE{i:03d}",
                element_label=label,
                starts_at=start + timedelta(days=i),
                supervised_hours=1 + i % 4,
                place="Amphithéâtre Marie Curie",
                modality="Sur site (campus principal)",
            ),
            sign(KEY, NoticeClaim(77, 1000 + i, 5)),
        )
        for i in range(exams)
    )
    return Notice(77, Person(5, "E00005", "Zoé", "Lefèvre"), "2026-2027", 1, blocks)


def check_blocks_whole(data: bytes, tokens: dict[str, str]) -> None:
    """Each QR code inside its page's printable area, decoding to a known token, with its
    title and verification line on the same page, inside the same block."""
    pdf = inspect_pdf(data)
    assert sorted(q.text for q in pdf.qr_codes) == sorted(tokens)
    lowest, highest = MARGIN * MM, pdf.page_height - MARGIN * MM
    for qr in pdf.qr_codes:
        assert lowest <= qr.bottom < qr.top <= highest, qr
        # The block frames the QR code with 4 mm above and below it.
        block_bottom, block_top = qr.bottom - 4 * MM, qr.top + 4 * MM
        assert block_bottom >= pdf.page_height - BOTTOM * MM - 0.01, qr
        code = tokens[qr.text]
        mine = [
            t for t in pdf.texts if t.page == qr.page and block_bottom <= t.baseline <= block_top
        ]
        assert any(t.text.startswith(code) for t in mine), (qr, code)
        assert any(t.text == f"Code de vérification : {qr.text}" for t in mine), qr
        # Nowhere else: a block's text is never continued on another page.
        elsewhere = [t for t in pdf.texts if t.text.startswith(code + " ") and t not in mine]
        assert elsewhere == [], elsewhere


@pytest.mark.parametrize("exams", range(1, 61))
def test_every_qr_code_stands_on_one_page_with_its_block_for_1_to_60_exams(exams):
    document = notice(exams)
    tokens = {b.token: b.sitting.element_code for b in document.blocks}
    data = render_notice(document, ZONE)
    check_blocks_whole(data, tokens)
    for token in tokens:
        assert verify(KEY, token).registration_id == 77


def test_a_label_too_long_for_its_line_is_shortened_not_spilled():
    document = notice(7, label="Très long intitulé " * 20)
    data = render_notice(document, ZONE)
    check_blocks_whole(data, {b.token: b.sitting.element_code for b in document.blocks})
    assert "…" in inspect_pdf(data).all_text()


def test_names_outside_the_pdf_fonts_are_printed_approximately_rather_than_failing():
    document = notice(1)
    document = Notice(
        document.registration_id,
        Person(5, "E5", "Łukasz 李", "Ŀlobet"),
        document.academic_year,
        3,
        document.blocks,
    )
    text = inspect_pdf(render_notice(document, ZONE)).all_text()
    assert "ukasz ?" in text and "Session de rattrapage (2026-2027)" in text
