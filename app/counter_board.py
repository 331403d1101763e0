"""Shift counters in large digits: total, pass, fail (every reject), yield."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from app import theme
from inspection.pipeline.counters import CountersSnapshot
from inspection.types import Verdict

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Counts:
    """Parts of this shift by verdict."""

    parts: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0

    @property
    def rejects(self) -> int:
        return self.failed + self.errors

    @property
    def yield_pct(self) -> float:
        return 100.0 * self.passed / self.parts if self.parts else float("nan")

    def plus(self, verdict: Verdict) -> Counts:
        return Counts(
            parts=self.parts + 1,
            passed=self.passed + (verdict is Verdict.PASS),
            failed=self.failed + (verdict is Verdict.FAIL),
            errors=self.errors + (verdict is Verdict.ERROR),
        )

    @classmethod
    def from_snapshot(cls, snap: CountersSnapshot) -> Counts:
        return cls(parts=snap.parts, passed=snap.passed, failed=snap.failed, errors=snap.errors)


class _Tile(QFrame):
    def __init__(self, caption: str, colour: str) -> None:
        super().__init__()
        self.setObjectName("counterTile")
        self.value = QLabel("0")
        self.value.setFont(theme.font(theme.COUNTER_PX, bold=True))
        self.value.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.value.setStyleSheet(f"color: {colour};")
        self.caption = QLabel(caption)
        self.caption.setFont(theme.font(theme.CAPTION_PX, bold=True))
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setStyleSheet(f"color: {theme.MUTED_TEXT};")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(0)
        layout.addWidget(self.value)
        layout.addWidget(self.caption)


class CounterBoard(QWidget):
    """Four tiles; ``show_counts`` replaces all of them at once."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.total = _Tile("TOTAL", theme.TEXT)
        self.passed = _Tile("PASS", theme.VERDICT_BACKGROUND[Verdict.PASS])
        self.failed = _Tile("FAIL", theme.BAD_COLOUR.name())
        self.yield_ = _Tile("YIELD", theme.TEXT)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(8)
        grid.addWidget(self.total, 0, 0)
        grid.addWidget(self.yield_, 0, 1)
        grid.addWidget(self.passed, 1, 0)
        grid.addWidget(self.failed, 1, 1)
        self.counts = Counts()
        self.show_counts(self.counts)

    def show_counts(self, counts: Counts) -> None:
        self.counts = counts
        self.total.value.setText(f"{counts.parts:,}")
        self.passed.value.setText(f"{counts.passed:,}")
        self.failed.value.setText(f"{counts.rejects:,}")
        # ERROR is a reject like FAIL; the caption says how many of them could not be inspected
        self.failed.caption.setText(
            f"FAIL (incl. {counts.errors:,} ERROR)" if counts.errors else "FAIL"
        )
        y = counts.yield_pct
        self.yield_.value.setText("—" if y != y else f"{y:.1f} %")
