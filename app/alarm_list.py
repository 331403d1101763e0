"""This shift's alarms: each episode with when it was raised, what it was, when the operator
acknowledged it and when (and by what) it cleared. Read from the station's alarm book."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import theme
from inspection.pipeline.alarms import AlarmEpisode
from inspection.types import StatusLevel

log = logging.getLogger(__name__)

History = Callable[[], Sequence[AlarmEpisode]]

REFRESH_MS = 1000
COLUMNS = ("Raised", "Source", "Level", "What", "Acknowledged", "Cleared")
RAISED, SOURCE, LEVEL, WHAT, ACKNOWLEDGED, CLEARED = range(len(COLUMNS))

# colours on the dark panel, each above 4.5:1 contrast
_ACTIVE_ALARM = QColor("#ff6b6b")
_ACTIVE_WARNING = QColor("#ffc940")

_STYLE = f"""
QTableWidget {{
    background-color: {theme.PANEL};
    alternate-background-color: #23272c;
    color: {theme.TEXT};
    gridline-color: #3a3f45;
    selection-background-color: #2f5d8a;
    selection-color: {theme.TEXT};
}}
QHeaderView::section {{
    background-color: #2a2e33;
    color: {theme.TEXT};
    padding: 6px;
    border: none;
    border-bottom: 1px solid #3a3f45;
}}
"""


def clock(t: float, now: float | None = None) -> str:
    """``14:02:11``, with the date in front when it was not today."""
    then = time.localtime(t)
    today = time.localtime(time.time() if now is None else now)
    if (then.tm_year, then.tm_yday) != (today.tm_year, today.tm_yday):
        return time.strftime("%d %b %H:%M:%S", then)
    return time.strftime("%H:%M:%S", then)


def duration(seconds: float) -> str:
    """``25 s``, ``4 min 05 s``, ``2 h 03 min``."""
    s = max(round(seconds), 0)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"


def episode_cells(episode: AlarmEpisode, now: float | None = None) -> tuple[str, ...]:
    """The row of one episode, in ``COLUMNS`` order."""
    at = time.time() if now is None else now
    what = episode.first_message
    if episode.message != episode.first_message:
        what += f"\nlatest: {episode.message}"
    if episode.occurrences > 1:
        what += f"  ({episode.occurrences} reports)"
    acknowledged = (
        clock(episode.acknowledged_at, at) if episode.acknowledged_at is not None else "—"
    )
    if episode.cleared_at is None:
        cleared = f"still active ({duration(at - episode.raised_at)})"
    else:
        cleared = (
            f"{clock(episode.cleared_at, at)} after "
            f"{duration(episode.cleared_at - episode.raised_at)}"
        )
        if episode.cleared_by:
            cleared += f"\n{episode.cleared_by}"
    return (
        clock(episode.raised_at, at),
        episode.source,
        episode.level.value.upper(),
        what,
        acknowledged,
        cleared,
    )


class AlarmListDialog(QDialog):
    """The shift's alarm episodes, newest first, refreshed every second while open."""

    def __init__(self, history: History, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Alarms of this shift")
        self.setObjectName("alarmListDialog")
        self._history = history
        self.episodes: tuple[AlarmEpisode, ...] = ()

        self.summary = QLabel()
        self.summary.setFont(theme.font(theme.CAPTION_PX, bold=True))
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setFont(theme.font(theme.STATUS_PX))
        self.table.horizontalHeader().setFont(theme.font(theme.STATUS_PX, bold=True))
        self.table.setStyleSheet(_STYLE)
        self.table.setAlternatingRowColors(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(WHAT, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        for button in buttons.buttons():
            button.setFont(theme.font(theme.BUTTON_TEXT_PX, bold=True))
            button.setMinimumHeight(theme.button_height(self))

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(1100, 520)

        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Read the book again (cheap, in memory) and show it."""
        episodes = tuple(self._history())
        now = time.time()
        active = sum(e.active for e in episodes)
        if not episodes:
            self.summary.setText("No alarms this shift.")
        else:
            self.summary.setText(
                f"{len(episodes)} alarm episode{'s' if len(episodes) != 1 else ''} this shift"
                + (f", {active} still active" if active else ", none active")
            )
        self.episodes = episodes
        self.table.setRowCount(len(episodes))
        for row, episode in enumerate(episodes):
            colour = None
            if episode.active:
                colour = _ACTIVE_ALARM if episode.level is StatusLevel.ALARM else _ACTIVE_WARNING
            for column, text in enumerate(episode_cells(episode, now)):
                item = self.table.item(row, column)
                if item is None:
                    item = QTableWidgetItem()
                    item.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
                    self.table.setItem(row, column, item)
                item.setText(text)
                item.setForeground(QBrush(colour if colour is not None else QColor(theme.TEXT)))
        self.table.resizeRowsToContents()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()
        self._timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        self._timer.stop()
        super().hideEvent(event)
