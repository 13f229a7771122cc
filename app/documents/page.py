"""The page every exam document shares: A4, French header and footer, no automatic breaks.

Automatic page breaks are off: each renderer decides where a page ends, so that a block
(an exam on a notice, a row on a sheet) is never cut in two.
"""

from __future__ import annotations

from fpdf import FPDF

from app.documents.text import ENCODING, printable

MARGIN = 15.0
PAGE_WIDTH = 210.0
PAGE_HEIGHT = 297.0
FOOTER_HEIGHT = 12.0
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
BOTTOM = PAGE_HEIGHT - MARGIN - FOOTER_HEIGHT  # the lowest y any content may reach
ELLIPSIS = "…"


class DocumentPage(FPDF):
    """An A4 document with a title band on every page and "Page n / N" at the bottom."""

    def __init__(self, title: str, lines: list[str]) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.core_fonts_encoding = ENCODING
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(False)
        self.set_title(printable(title))
        self.set_creator("Campus Platform")
        self._title = title
        self._lines = lines

    def header(self) -> None:
        self.set_xy(MARGIN, MARGIN)
        self.set_font("helvetica", "B", 15)
        self.cell(CONTENT_WIDTH, 8, printable(self._title), new_x="LMARGIN", new_y="NEXT")
        self.set_font("helvetica", "", 10)
        for line in self._lines:
            self.cell(
                CONTENT_WIDTH, 5, self.fit(line, CONTENT_WIDTH), new_x="LMARGIN", new_y="NEXT"
            )
        self.set_draw_color(0)
        self.line(MARGIN, self.get_y() + 2, PAGE_WIDTH - MARGIN, self.get_y() + 2)
        self.set_y(self.get_y() + 5)

    def footer(self) -> None:
        self.set_xy(MARGIN, PAGE_HEIGHT - MARGIN - 5)
        self.set_font("helvetica", "", 8)
        self.cell(CONTENT_WIDTH, 5, f"Page {self.page_no()} / {{nb}}", align="R")

    def fit(self, text: str, width: float) -> str:
        """`text` made printable, cut with an ellipsis to fit on one line of `width` mm."""
        text = printable(text)
        if self._width(text) <= width:
            return text
        while text and self._width(text + ELLIPSIS) > width:
            text = text[:-1]
        return text.rstrip() + ELLIPSIS

    def _width(self, text: str) -> float:
        # The standard fonts' glyph widths (1/1000 em) summed directly: the same figure as
        # get_string_width, without its text shaping, which costs a third of a notice.
        widths = getattr(self.current_font, "cw", None)
        if not isinstance(widths, dict):
            return self.get_string_width(text)
        em = self.font_size  # in mm
        return sum(widths.get(char, 1000) for char in text) * em / 1000

    def room_left(self) -> float:
        """Millimetres left above the footer on this page."""
        return BOTTOM - self.get_y()
