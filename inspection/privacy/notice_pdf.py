"""The notice as an A4 PDF to pin up beside the station (reportlab, no display needed).

Large type (12.5 pt text, 16 pt headings) for reading at arm's length on a wall; one page for a
station with one camera, two for a few.
"""

from __future__ import annotations

import io
from pathlib import Path
from xml.sax.saxutils import escape

import cv2
import numpy as np
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    ListFlowable,
    ListItem,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from inspection.errors import LinesideError
from inspection.paths import written_in_place
from inspection.privacy.notice import INTRO, TITLE, CameraFacts, PrivacyNotice
from inspection.reports.pdf import Fonts, report_fonts

BODY_PT = 12.5
HEADING_PT = 16.0
TITLE_PT = 24.0
MAX_PICTURE_PX = 1200
"""Pictures are scaled down to this width before embedding: sharp on paper, small file."""


class _Styles:
    def __init__(self, fonts: Fonts) -> None:
        self.title = ParagraphStyle("title", fontName=fonts.bold, fontSize=TITLE_PT, leading=29)
        self.subtitle = ParagraphStyle(
            "subtitle", fontName=fonts.regular, fontSize=13, leading=17, spaceBefore=2
        )
        self.intro = ParagraphStyle(
            "intro", fontName=fonts.bold, fontSize=BODY_PT, leading=17, spaceBefore=6
        )
        self.heading = ParagraphStyle(
            "heading",
            fontName=fonts.bold,
            fontSize=HEADING_PT,
            leading=20,
            spaceBefore=9,
            spaceAfter=3,
            textColor=colors.HexColor("#1F3864"),
            keepWithNext=1,
        )
        self.body = ParagraphStyle("body", fontName=fonts.regular, fontSize=BODY_PT, leading=16.5)
        self.caption = ParagraphStyle(
            "caption", fontName=fonts.regular, fontSize=11, leading=13.5, spaceBefore=2
        )


def _printable(text: str) -> str:
    return "".join(ch for ch in text if ch >= " ")


def _clean(text: str) -> str:
    """Configuration text for a Paragraph: no control characters, markup escaped."""
    return escape(_printable(text))


def _picture(cam: CameraFacts, width: float, max_height: float, styles: _Styles) -> list[Flowable]:
    image = cam.picture.image
    h, w = image.shape[:2]
    if w > MAX_PICTURE_PX:
        image = cv2.resize(
            image, (MAX_PICTURE_PX, round(h * MAX_PICTURE_PX / w)), interpolation=cv2.INTER_AREA
        )
    ok, data = cv2.imencode(".jpg", np.ascontiguousarray(image), [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise LinesideError(f"privacy notice: cannot encode the picture of {cam.camera}")
    scale = min(width / w, max_height / h)
    return [
        Image(io.BytesIO(data.tobytes()), width=w * scale, height=h * scale),
        Paragraph(
            f"<b>Camera {_clean(cam.camera)}</b>: {_clean(cam.picture.note)}.", styles.caption
        ),
    ]


def _pictures(notice: PrivacyNotice, width: float, styles: _Styles) -> Flowable | None:
    cams = notice.cameras
    if not cams:
        return None
    if len(cams) == 1:
        return KeepTogether(_picture(cams[0], width, 95 * mm, styles))
    half = width / 2
    cells = [_picture(cam, half - 4 * mm, 62 * mm, styles) for cam in cams]
    grid: list[list[object]] = [list(cells[i : i + 2]) for i in range(0, len(cells), 2)]
    if len(grid[-1]) == 1:
        grid[-1].append("")
    table = Table(grid, colWidths=[half, half])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table


def _bullets(sentences: tuple[str, ...], styles: _Styles) -> ListFlowable:
    return ListFlowable(
        [ListItem(Paragraph(_clean(s), styles.body), leftIndent=12) for s in sentences],
        bulletType="bullet",
        start="•",
        bulletFontSize=BODY_PT,
        leftIndent=12,
    )


def _story(notice: PrivacyNotice, fonts: Fonts, width: float) -> list[Flowable]:
    styles = _Styles(fonts)
    story: list[Flowable] = [
        Paragraph(TITLE, styles.title),
        Paragraph(_clean(notice.subtitle), styles.subtitle),
        Paragraph(_clean(INTRO), styles.intro),
    ]
    for i, section in enumerate(notice.sections()):
        # a heading stays with its text; a long section may run on to the next page rather
        # than leave half a page empty
        story += [
            Paragraph(_clean(section.heading), styles.heading),
            _bullets(section.sentences, styles),
        ]
        if i == 0:
            pictures = _pictures(notice, width, styles)
            if pictures is not None:
                story += [Spacer(1, 2 * mm), pictures]
    return story


def write_notice_pdf(notice: PrivacyNotice, path: Path) -> Path:
    """Write the notice as an A4 PDF at ``path`` (beside it, then renamed in) and return it.
    LinesideError naming the file when it cannot be written."""
    path = Path(path)
    fonts = report_fonts()
    footer = _printable(notice.footer)  # drawn as plain text, not markup

    def on_page(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(fonts.regular, 9)
        canvas.setFillColor(colors.HexColor("#444444"))
        text = canvas.beginText(doc.leftMargin, 13 * mm)
        text.setFont(fonts.regular, 9, leading=11)
        # the footer is long (it names the recipe file): wrap it to the text width
        words, line = footer.split(" "), ""
        for word in words:
            trial = f"{line} {word}".strip()
            if canvas.stringWidth(trial, fonts.regular, 9) > doc.width and line:
                text.textLine(line)
                line = word
            else:
                line = trial
        text.textLine(line)
        canvas.drawText(text)
        canvas.drawRightString(A4[0] - doc.rightMargin, 6 * mm, f"page {doc.page}")
        canvas.restoreState()

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with written_in_place(path) as partial:
            doc = SimpleDocTemplate(
                str(partial),
                pagesize=A4,
                leftMargin=18 * mm,
                rightMargin=18 * mm,
                topMargin=15 * mm,
                bottomMargin=24 * mm,
                title=TITLE,
                author="Lineside",
                subject=notice.subtitle,
            )
            doc.build(_story(notice, fonts, doc.width), onFirstPage=on_page, onLaterPages=on_page)
    except OSError as exc:
        raise LinesideError(
            f"privacy notice: cannot write {exc.filename or path}: {exc.strerror or exc}"
        ) from exc
    return path
