"""Reading exam PDFs back: where each QR code is drawn, what it decodes to, where each text is.

pypdf parses the page content (images are placed by a `cm` matrix then `Do`); zxing-cpp
decodes the embedded QR images, as a phone would decode the printed ones.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pypdf
import zxingcpp
from pypdf.generic import ContentStream


@dataclass(frozen=True)
class PlacedQr:
    page: int
    text: str
    bottom: float  # PDF points from the bottom of the page
    top: float


@dataclass(frozen=True)
class PlacedText:
    page: int
    text: str
    baseline: float


@dataclass(frozen=True)
class Inspected:
    page_count: int
    page_height: float
    qr_codes: list[PlacedQr]
    texts: list[PlacedText]

    def page_text(self, page: int) -> str:
        return "\n".join(t.text for t in self.texts if t.page == page)

    def all_text(self) -> str:
        return "\n".join(t.text for t in self.texts)


def _multiply(m: list[float], n: list[float]) -> list[float]:
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return [
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    ]


def inspect_pdf(data: bytes) -> Inspected:
    """Every QR code (decoded, with its vertical extent) and every text line, page by page."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    qr_codes: list[PlacedQr] = []
    texts: list[PlacedText] = []
    height = float(reader.pages[0].mediabox.height)
    for number, page in enumerate(reader.pages, start=1):
        images = {image.name.rsplit(".", 1)[0]: image.image for image in page.images}
        matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
        stack: list[list[float]] = []
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"q":
                stack.append(matrix)
            elif operator == b"Q":
                matrix = stack.pop()
            elif operator == b"cm":
                matrix = _multiply([float(v) for v in operands], matrix)
            elif operator == b"Do":
                name = str(operands[0]).lstrip("/")
                decoded = zxingcpp.read_barcodes(images[name])
                assert len(decoded) == 1, f"page {number}: image {name} is not one QR code"
                bottom = matrix[5]
                qr_codes.append(PlacedQr(number, decoded[0].text, bottom, bottom + matrix[3]))

        def visit(text, cm, tm, _font, _size, number=number):
            if text.strip():
                texts.append(PlacedText(number, text.strip(), tm[5]))

        page.extract_text(visitor_text=visit)
    return Inspected(len(reader.pages), height, qr_codes, texts)
