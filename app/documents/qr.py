"""QR codes of notice tokens, as small greyscale images the PDF embeds losslessly."""

from __future__ import annotations

import segno
from PIL import Image

QUIET_ZONE = 4  # modules of white around the symbol, as ISO/IEC 18004 asks
PIXELS_PER_MODULE = 4  # crisp when printed: viewers smooth a 1-pixel-per-module image
ERROR_LEVEL = "m"  # 15 % of the symbol may be smudged or folded and still read
# Any of the 8 masks is valid and every decoder reads them all; scoring the 8 to pick the
# "best" costs 80 % of the encoding time, which batches of 6,000 notices cannot afford. The
# tests decode every code of every notice they print with a real decoder.
MASK = 0
# segno's matrix holds 1 for a dark module: dark is black (0), light is white (255).
_GREY = bytes([255, 0]) + bytes(254)


def qr_image(text: str) -> Image.Image:
    """The QR code of `text`, quiet zone included, PIXELS_PER_MODULE pixels per module."""
    code = segno.make_qr(text, error=ERROR_LEVEL, mask=MASK, boost_error=False)
    side = len(code.matrix) + 2 * QUIET_ZONE
    light_rows = bytes([255]) * (side * QUIET_ZONE)
    edge = bytes([255]) * QUIET_ZONE
    body = b"".join(edge + bytes(row).translate(_GREY) + edge for row in code.matrix)
    modules = Image.frombytes("L", (side, side), light_rows + body + light_rows)
    scaled = side * PIXELS_PER_MODULE
    return modules.resize((scaled, scaled), Image.Resampling.NEAREST)
