"""One part in the History page: its archived image with each tool's overlays, and its record.

The image and overlays are drawn by the operator screen's ``LiveView`` (no source: it only shows
this part); each tool's result by the part dialog's ``ToolCard``. The record's stored values are
handed to them as the core's own frozen types, so both draw a stored part exactly as they draw
a live one.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from app import theme
from app.live_view import LiveView
from app.part_dialog import ToolCard
from app.part_facts import number, when
from inspection.history.record import PartRecord, ToolRecord
from inspection.types import Frame, Inspection, Overlay, ToolResult, Verdict

TEXT_PX = 15
HEADING_PX = 18
TIMING_NAMES = {
    "queued_ms": "capture → queued",
    "started_ms": "capture → started",
    "decided_ms": "capture → decided",
    "dispatched_ms": "capture → dispatched",
    "stored_ms": "capture → stored",
}


def tool_result(tool: ToolRecord, record: PartRecord) -> ToolResult:
    """A stored tool result as the ToolResult the tool published, with its rebuilt overlays."""
    shapes = [s for s in record.overlays if s.tool_id == tool.tool_id]
    return ToolResult(
        tool_id=tool.tool_id,
        tool_type=tool.tool_type,
        verdict=tool.verdict,
        reason=tool.reason,
        measurements=dict(tool.measurements),
        details=dict(tool.details),
        overlays=tuple(
            Overlay(points=np.asarray(s.points, dtype=np.float32), label=s.label, ok=s.ok)
            for s in shapes
        ),
        duration_ns=int((tool.duration_ms or 0.0) * 1e6),
    )


def shown_inspection(record: PartRecord, image: np.ndarray) -> Inspection:
    """The record and its image as an Inspection, for ``LiveView.show_result``."""
    p = record.part
    return Inspection(
        inspection_id=p.inspection_id,
        station=p.station,
        part_seq=p.part_number - 1,
        verdict=p.verdict,
        reason=p.reason,
        tool_results=tuple(tool_result(t, record) for t in record.tools),
        frames=(Frame(camera="", seq=0, t_ns=0, image=image),),
        recipe_name=record.recipe_name,
        recipe_version=p.recipe_version,
        wall_time=p.wall_time,
        lot=p.lot,
    )


def fact_lines(record: PartRecord) -> list[str]:
    """Where the part came from and what it was inspected with, one fact a line."""
    p = record.part
    lines = [
        f"recipe {record.recipe_name} v{p.recipe_version}",
        f"station {p.station}" + (f" · line {record.line}" if record.line else ""),
        f"lot {p.lot or '—'}",
    ]
    if p.production_day:
        lines.append(f"production day {p.production_day} · shift {p.shift or '—'}")
    lines.append(f"codes read: {', '.join(p.codes) if p.codes else 'none'}")
    lines.append(f"record {p.inspection_id}")
    if record.image is not None:
        lines.append(f"image {record.image}" + ("" if record.image_exists else " (missing)"))
    if record.image_note:
        lines.append(record.image_note)
    return lines


def model_lines(hashes: Mapping[str, str]) -> list[str]:
    return [f"{name}: {digest}" for name, digest in hashes.items()] or ["no model used"]


def timing_lines(timings: Mapping[str, float | None]) -> list[str]:
    return [
        f"{TIMING_NAMES.get(k, k)}: {'—' if v is None else f'{number(v)} ms'}"
        for k, v in timings.items()
    ]


def verdict_badge(verdict: Verdict, px: int = 28) -> QLabel:
    badge = QLabel(verdict.value)
    badge.setObjectName("verdictBadge")
    badge.setFont(theme.font(px, bold=True))
    badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
    badge.setStyleSheet(
        f"background-color: {theme.VERDICT_BACKGROUND[verdict]};"
        f"color: {theme.VERDICT_TEXT[verdict]}; border-radius: 6px; padding: 4px 16px;"
    )
    return badge


def _label(text: str = "", *, px: int = TEXT_PX, bold: bool = False) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)  # codes and OCR text are data, never markup
    label.setWordWrap(True)
    label.setFont(theme.font(px, bold=bold))
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


class PartDetail(QWidget):
    """The selected part: image with overlays above, its record below (scrolls)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("partDetail")
        self.record: PartRecord | None = None
        self.view = LiveView()
        self.view.setMinimumHeight(200)
        self.no_image = _label("", px=HEADING_PX, bold=True)
        self.no_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_image.setMinimumHeight(60)
        self.title = _label("Choose a part in the list", px=HEADING_PX, bold=True)
        self.badge_holder = QVBoxLayout()
        self.reason = _label()
        self.facts = _label()
        self.models = _label()
        self.timings = _label()
        self.cards: list[ToolCard] = []

        self._column = QVBoxLayout()
        self._column.setSpacing(6)
        body = QWidget()
        body.setLayout(self._column)
        self._column.addLayout(self.badge_holder)
        self._column.addWidget(self.title)
        self._column.addWidget(self.reason)
        self._column.addWidget(self.facts)
        self._cards_at = self._column.count()
        self._column.addWidget(_label("Models", px=HEADING_PX, bold=True))
        self._column.addWidget(self.models)
        self._column.addWidget(_label("Timing", px=HEADING_PX, bold=True))
        self._column.addWidget(self.timings)
        self._column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(body)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 3)
        layout.addWidget(self.no_image)
        layout.addWidget(scroll, 4)
        self.no_image.hide()
        self.badge: QLabel | None = None

    def show_record(self, record: PartRecord, image: np.ndarray | None) -> None:
        """Show ``record``; ``image`` (uint8 (H, W) or BGR (H, W, 3)) is its picture, if any."""
        self.record = record
        p = record.part
        if image is not None:
            self.view.show()
            self.no_image.hide()
            self.view.show_result(shown_inspection(record, image))
        else:
            self.view.hide()
            self.no_image.show()
            self.no_image.setText(
                record.image_note
                or ("archived image missing" if record.image is not None else "no archived image")
            )
        if self.badge is not None:
            self.badge.deleteLater()
        self.badge = verdict_badge(p.verdict)
        self.badge_holder.addWidget(self.badge)
        self.title.setText(f"Part #{p.part_number}  ·  {when(p.wall_time)}")
        self.reason.setText(p.reason or "every tool passed")
        self.facts.setText("\n".join(fact_lines(record)))
        self.models.setText("\n".join(model_lines(record.model_hashes)))
        self.timings.setText("\n".join(timing_lines(record.timings_ms)))
        for card in self.cards:
            self._column.removeWidget(card)
            card.deleteLater()
        self.cards = [ToolCard(tool_result(t, record)) for t in record.tools]
        for i, card in enumerate(self.cards):
            self._column.insertWidget(self._cards_at + i, card)

    def texts(self) -> list[str]:
        """Every text the detail shows (for finding what it says)."""
        out = [w.text() for w in (self.title, self.reason, self.facts, self.models, self.timings)]
        out += [t for card in self.cards for t in card.texts()]
        if self.badge is not None:
            out.append(self.badge.text())
        return out
