"""Build small real PDFs for tests with reportlab: text pages with running headers and footers,
blank pages, and "scanned" pages that hold only an image of rendered text."""

from __future__ import annotations

import io
from pathlib import Path

import reportlab
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

VERA_PATH = Path(reportlab.__file__).resolve().parent / "fonts" / "Vera.ttf"
FONT = "TestVera"


def _register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(VERA_PATH)))


def make_text_pdf(
    path: Path,
    pages: list[list[str]],
    header: str | None = None,
    footer: str | None = "Sida {n} av {total}",
    size: float = 11.0,
) -> Path:
    """A PDF with one page per list of lines; "" is an empty line (a paragraph gap).

    ``header`` is drawn at the top of every page, ``footer`` (with {n} and {total}) at the bottom.
    """
    _register_font()
    width, height = A4
    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    for number, lines in enumerate(pages, start=1):
        if header:
            pdf.setFont(FONT, 9)
            pdf.drawString(56, height - 40, header)
        pdf.setFont(FONT, size)
        y = height - 80
        for line in lines:
            if line:
                pdf.drawString(56, y, line)
            y -= size * 1.3
        if footer:
            pdf.setFont(FONT, 9)
            pdf.drawCentredString(width / 2, 30, footer.format(n=number, total=len(pages)))
        pdf.showPage()
    pdf.save()
    return path


def make_blank_pdf(path: Path, pages: int = 1) -> Path:
    """A PDF whose pages have no text and no images."""
    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    for _ in range(pages):
        pdf.line(100, 100, 200, 200)
        pdf.showPage()
    pdf.save()
    return path


def render_text_image(
    lines: list[str], font_size: int = 48, width: int = 1654, height: int = 2339
) -> Image.Image:
    """Black text on white, at about 200 dpi for an A4 page, drawn with Vera.ttf."""
    font = ImageFont.truetype(str(VERA_PATH), font_size)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    y = 200
    for line in lines:
        draw.text((150, y), line, font=font, fill=0)
        y += int(font_size * 1.8)
    return image


def make_scanned_pdf(path: Path, lines: list[str]) -> Path:
    """A one-page PDF that is only an image of rendered text (no text layer)."""
    image = render_text_image(lines)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    buffer.seek(0)
    width, height = A4
    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    pdf.drawImage(ImageReader(buffer), 0, 0, width=width, height=height)
    pdf.showPage()
    pdf.save()
    return path
