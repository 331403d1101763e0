"""Shift counters in large digits: total, pass, fail, error, yield.

The station's counters are the record; the board adds each part the lamp shows and takes the
station's snapshot only when it cannot disagree with the lamp (see ``Counts.accepts``), so TOTAL is
always the lamp's "Nth this shift".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from app import theme
from inspection.pipeline.counters import CountersSnapshot
from inspection.types import Verdict

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Counts:
    """Parts of this count (shift) by verdict, and which part numbers it covers."""

    parts: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    last_part: int = -1
    """``part_seq`` of the last part counted (-1: none)."""
    first_part: int = 0
    """First ``part_seq`` of this count; it changes when the count is reset or restored."""

    @property
    def rejects(self) -> int:
        return self.failed + self.errors

    @property
    def yield_pct(self) -> float:
        return 100.0 * self.passed / self.parts if self.parts else float("nan")

    def plus(self, verdict: Verdict, part_seq: int | None = None) -> Counts:
        """These counts with one more part (``part_seq``: its number, None: the next one)."""
        return replace(
            self,
            parts=self.parts + 1,
            passed=self.passed + (verdict is Verdict.PASS),
            failed=self.failed + (verdict is Verdict.FAIL),
            errors=self.errors + (verdict is Verdict.ERROR),
            last_part=self.last_part + 1 if part_seq is None else part_seq,
        )

    def counts_part(self, part_seq: int) -> bool:
        """Whether a part shown now is new to these counts (an older number was counted)."""
        return part_seq > self.last_part

    def number_of(self, part_seq: int) -> int | None:
        """The place of part ``part_seq`` in this count ("Nth this shift") when it is the last
        part counted, which is when it is known; None otherwise (e.g. counted before a reset)."""
        if part_seq == self.last_part and part_seq >= self.first_part:
            return self.parts
        return None

    def accepts(self, snap: CountersSnapshot) -> bool:
        """Whether the display should take the station's snapshot.

        Yes after a reset or a restart (another first part), or when the snapshot ends with the
        same part as the display (it corrects drift); otherwise it is ahead of or behind the
        part on the lamp, and taking it would make TOTAL disagree with the lamp.
        """
        return snap.first_part != self.first_part or snap.last_part == self.last_part

    @classmethod
    def from_snapshot(cls, snap: CountersSnapshot) -> Counts:
        return cls(
            parts=snap.parts,
            passed=snap.passed,
            failed=snap.failed,
            errors=snap.errors,
            last_part=snap.last_part,
            first_part=snap.first_part,
        )


class _Tile(QFrame):
    def __init__(self, caption: str, colour: str) -> None:
        super().__init__()
        self.setObjectName("counterTile")
        self.value = QLabel("0")
        self.value.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.value.setStyleSheet(f"color: {colour};")
        self.caption = QLabel(caption)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setStyleSheet(f"color: {theme.MUTED_TEXT};")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 2, 8, 4)
        layout.setSpacing(0)
        layout.addWidget(self.value, 1)
        layout.addWidget(self.caption)
        self.set_scale(1.0)

    def set_scale(self, scale: float) -> None:
        self.value.setFont(theme.font(theme.scaled(theme.COUNTER_PX, scale), bold=True))
        small = theme.text_scale(scale)
        self.caption.setFont(theme.font(theme.scaled(theme.CAPTION_PX, small), bold=True))


class CounterBoard(QWidget):
    """Five tiles; ``show_counts`` replaces all of them at once.

    TOTAL on top; PASS beside YIELD; FAIL beside ERROR (both rejects, FAIL: the part is bad,
    ERROR: it could not be inspected).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.total = _Tile("TOTAL", theme.TEXT)
        self.passed = _Tile("PASS", theme.VERDICT_BACKGROUND[Verdict.PASS])
        self.failed = _Tile("FAIL", theme.BAD_COLOUR.name())
        self.errors = _Tile("ERROR", theme.VERDICT_BACKGROUND[Verdict.ERROR])
        self.yield_ = _Tile("YIELD", theme.TEXT)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(8)
        grid.addWidget(self.total, 0, 0, 1, 2)
        grid.addWidget(self.passed, 1, 0)
        grid.addWidget(self.yield_, 1, 1)
        grid.addWidget(self.failed, 2, 0)
        grid.addWidget(self.errors, 2, 1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.counts = Counts()
        self.show_counts(self.counts)

    def tiles(self) -> list[_Tile]:
        return [self.total, self.passed, self.yield_, self.failed, self.errors]

    def set_scale(self, scale: float) -> None:
        """Type sizes for a screen ``scale`` times a 1080p one."""
        for tile in self.tiles():
            tile.set_scale(scale)

    def show_counts(self, counts: Counts) -> None:
        self.counts = counts
        self.total.value.setText(f"{counts.parts:,}")
        self.passed.value.setText(f"{counts.passed:,}")
        self.failed.value.setText(f"{counts.failed:,}")
        self.errors.value.setText(f"{counts.errors:,}")
        y = counts.yield_pct
        self.yield_.value.setText("—" if y != y else f"{y:.1f} %")
