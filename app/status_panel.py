"""What the operator must notice besides the verdict: alarms, and the line's health figures.

``AlarmBanner`` shows the active alarms of an alarm book (the station's, see
``inspection.pipeline.alarms``): an alarm stays until its own source reports it cleared;
acknowledging silences it but keeps it visible as still active. ``StationStatus`` is the
one-line health readout fed from ``Station.counters()``.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from app import theme
from app.part_strip import wrap_lines
from inspection.integrations.output_runner import OutputState
from inspection.pipeline.alarms import AlarmBook, AlarmEpisode
from inspection.pipeline.counters import CountersSnapshot
from inspection.types import StatusLevel, StatusUpdate

if TYPE_CHECKING:
    from inspection.pipeline.station import Station

log = logging.getLogger(__name__)


class AlarmBanner(QFrame):
    """A bar over the live view; hidden while nothing is active.

    Red for an alarm nobody acknowledged yet, amber for a warning; once acknowledged it stays
    up, calm (dark, with a coloured outline) and says "ACKNOWLEDGED — still active", until the
    cause clears. One line, or two where they fit in the button's height, cut with "…" (the
    whole text is in the tooltip), so it never makes the window taller. Its height does not change with the Acknowledge button shown or hidden.
    """

    acknowledgeRequested = Signal()  # the operator pressed Acknowledge

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alarmBanner")
        self.episodes: tuple[AlarmEpisode, ...] = ()
        self.full_text = ""
        # alarms fed one update at a time (``show_status``) when no station's book is shown
        self._own_book = AlarmBook()
        self.message = CutLabel(lambda: banner_lines(self.message, self.ack_button))
        self.message.setFont(theme.font(theme.REASON_PX - 8, bold=True))
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(False)
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.ack_button = QPushButton("Acknowledge")
        self.ack_button.setObjectName("ackButton")
        self.ack_button.setFont(theme.font(theme.BUTTON_TEXT_PX, bold=True))
        self.ack_button.setCursor(Qt.CursorShape.PointingHandCursor)
        policy = self.ack_button.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # hiding it must not make the banner jump
        self.ack_button.setSizePolicy(policy)
        self.ack_button.clicked.connect(self.acknowledge)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 8, 8, 8)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.ack_button)
        self.hide()

    @property
    def acknowledged(self) -> bool:
        """Shown and every active alarm acknowledged (the calm look)."""
        return bool(self.episodes) and all(e.acknowledged for e in self.episodes)

    def set_button_height(self, px: int) -> None:
        self.ack_button.setMinimumHeight(px)
        self.ack_button.setMinimumWidth(px * 3)
        self._elide()

    def set_scale(self, scale: float) -> None:
        """Type for a screen ``scale`` times a 1080p one (as the drift banner's)."""
        self.message.setFont(banner_font(scale))
        self.ack_button.setFont(banner_button_font(scale))
        self._elide()

    def show_status(self, update: StatusUpdate) -> None:
        """One status update, kept in the banner's own book (no station's book at hand)."""
        self._own_book.update(update, time.time())
        self.show_alarms(self._own_book.active())

    def show_alarms(self, episodes: Sequence[AlarmEpisode]) -> None:
        """Show exactly these active episodes (e.g. ``station.alarms()``); none: hide."""
        episodes = tuple(e for e in episodes if e.active)
        if episodes == self.episodes and self.isHidden() != bool(episodes):
            return
        self.episodes = episodes
        self._redraw()

    def acknowledge(self) -> None:
        """The operator saw it: calm at once; the station's book is told by the signal."""
        now = time.time()
        self._own_book.acknowledge(now)
        self.episodes = tuple(
            e if e.acknowledged else dataclasses.replace(e, acknowledged_at=now)
            for e in self.episodes
        )
        self._redraw()
        self.acknowledgeRequested.emit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _redraw(self) -> None:
        episodes = self.episodes
        if not episodes:
            self.full_text = ""
            self.hide()
            return
        waiting = [e for e in episodes if not e.acknowledged]
        if waiting:
            alarms = [e for e in waiting if e.level is StatusLevel.ALARM]
            shown = alarms or waiting
            text = ("ALARM: " if alarms else "WARNING: ") + _join(shown)
            if len(episodes) > len(shown):
                text += f"  (+{len(episodes) - len(shown)} more active)"
            bg = theme.ALARM_BACKGROUND if alarms else theme.WARNING_BACKGROUND
            fg = "#ffffff" if alarms else "#000000"
            style = f"background-color: {bg}; border: 3px solid {bg};"
        else:
            alarms = [e for e in episodes if e.level is StatusLevel.ALARM]
            text = "ACKNOWLEDGED — still active: " + _join(alarms or list(episodes))
            if alarms and len(episodes) > len(alarms):
                text += f"  (+{len(episodes) - len(alarms)} more)"
            outline = _ACKED_ALARM_OUTLINE if alarms else _ACKED_WARNING_OUTLINE
            fg = theme.TEXT
            style = f"background-color: {theme.PANEL}; border: 3px solid {outline};"
        self.ack_button.setVisible(bool(waiting))
        self.full_text = text
        self.setToolTip("\n".join(f"{e.source}: {_line(e)}" for e in episodes))
        fonts = (self.message.font(), self.ack_button.font())
        self.setStyleSheet(
            f"#alarmBanner {{ {style} border-radius: 8px; }}"
            f"#alarmBanner QLabel {{ color: {fg}; background: transparent; border: none; }}"
        )
        # a style sheet puts back the fonts of the first polish
        self.message.setFont(fonts[0])
        self.ack_button.setFont(fonts[1])
        self._elide()
        self.show()

    def _elide(self) -> None:
        self.message.set_full_text(self.full_text)
        self.message.setToolTip("")  # the banner's tooltip lists every active alarm


def banner_font(scale: float) -> QFont:
    """A banner's message type: large, never under 18 px (read from two metres)."""
    return theme.font(theme.scaled(theme.REASON_PX - 8, scale, minimum=18), bold=True)


def banner_button_font(scale: float) -> QFont:
    """A banner's button type: the operator screen's button type."""
    return theme.font(
        theme.scaled(theme.BUTTON_TEXT_PX, theme.text_scale(scale), minimum=18), bold=True
    )


def banner_lines(message: QLabel, button: QPushButton) -> int:
    """Lines of ``message`` that fit beside ``button`` (1 or 2): a banner beside the live view is
    narrow, and a second line in the button's height says more without making it taller."""
    spacing = message.fontMetrics().lineSpacing()
    return 2 if 2 * spacing <= button.minimumHeight() else 1


class CutLabel(QLabel):
    """``full_text`` cut with "…" to the label's width, on up to ``lines()`` lines (the whole
    text in its tooltip). Its width changes whenever its neighbours' texts do, so it cuts again
    on every resize of its own (uncut and right-aligned, a text would lose its beginning)."""

    def __init__(self, lines: Callable[[], int] | None = None) -> None:
        super().__init__("")
        self.full_text = ""
        self._lines = lines

    def set_full_text(self, text: str) -> None:
        self.full_text = text
        self.setToolTip(text)
        self.cut()

    def cut(self) -> None:
        show_elided(self, self.full_text, lines=self._lines() if self._lines is not None else 1)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.cut()


def show_elided(label: QLabel, text: str, *, lines: int = 1) -> None:
    """``text`` on up to ``lines`` lines of ``label`` (broken at spaces), the last cut with "…"
    to the width it has (whole before the label has a width: the first resize cuts it)."""
    width = label.width()
    metrics = label.fontMetrics()
    if width <= 0:
        label.setText(text)
    elif lines <= 1:
        label.setText(metrics.elidedText(text, Qt.TextElideMode.ElideRight, width))
    else:
        label.setText("\n".join(wrap_lines(text, metrics, width, lines)))


# A dark red and a dark amber: the outline says "still there" without shouting again.
_ACKED_ALARM_OUTLINE = "#9a1c1c"
_ACKED_WARNING_OUTLINE = "#a87400"


def no_signal_text(station: Station, camera: str | None) -> str:
    """What to write over the live view of ``camera``: "" while it delivers (or the station is
    stopped), else "NO SIGNAL — ..." saying whether it is lost (an alarm) or not there yet."""
    if camera is None or not station.running or station.camera_connected(camera):
        return ""
    if any(e.source == camera for e in station.alarms()):
        return f"NO SIGNAL — camera {camera} lost"
    return f"NO SIGNAL — waiting for camera {camera}"


def _since(episode: AlarmEpisode) -> str:
    return time.strftime("%H:%M:%S", time.localtime(episode.raised_at))


def _line(episode: AlarmEpisode) -> str:
    return f"{episode.message} (since {_since(episode)})"


def _join(episodes: Sequence[AlarmEpisode]) -> str:
    return "  ·  ".join(_line(e) for e in episodes)


def _ms(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.0f} ms"


class StationStatus(QFrame):
    """Camera fps, median inspection time, drops, and the latest notice, in one line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stationStatus")
        self.fps = QLabel("camera —")
        self.inspection_ms = QLabel("inspection —")
        self.drops = QLabel("drops 0")
        self.outputs = QLabel("")
        """The recipe's outputs (MQTT, ...): hidden when it has none."""
        self.outputs.hide()
        self.notice = CutLabel()
        self.notice.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.notice.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 2, 12, 2)
        layout.setSpacing(32)
        for label in (self.fps, self.inspection_ms, self.drops, self.outputs, self.notice):
            layout.addWidget(label)
        layout.setStretch(4, 1)
        self.set_scale(1.0)

    def labels(self) -> list[QLabel]:
        return [self.fps, self.inspection_ms, self.drops, self.outputs, self.notice]

    def set_scale(self, scale: float) -> None:
        """Type size for a screen ``scale`` times a 1080p one (≥ 18 px on 1080p)."""
        font = theme.font(theme.scaled(theme.STATUS_PX, theme.text_scale(scale), minimum=16))
        self._font = font
        for label in self.labels():
            label.setFont(font)
        self.layout().setSpacing(max(round(32 * scale), 12))
        self.notice.cut()

    def show_counters(self, snap: CountersSnapshot) -> None:
        if snap.camera_fps:
            self.fps.setText(
                "  ".join(f"{cam} {fps:.1f} fps" for cam, fps in sorted(snap.camera_fps.items()))
            )
        else:
            self.fps.setText("camera —")
        self.inspection_ms.setText(f"inspection {_ms(snap.inspection_ms)}")
        self.drops.setText(f"drops {snap.dropped_total:,}")
        self.drops.setToolTip(
            "\n".join(f"{n:,} × {why}" for why, n in snap.dropped.items()) or "no drops"
        )
        colour = theme.WARNING_BACKGROUND if snap.dropped_total else theme.TEXT
        style = f"color: {colour};"
        if style != self.drops.styleSheet():
            self.drops.setStyleSheet(style)
            self.drops.setFont(self._font)  # a style sheet puts back the font of its first polish

    def show_status(self, update: StatusUpdate) -> None:
        self.notice.set_full_text(f"{update.source}: {update.message}")

    def show_outputs(self, states: Sequence[OutputState]) -> None:
        """Each output in a word or two ("mqtt connected", "mqtt 1,234 waiting", "mqtt NOT
        CONNECTED"), amber unless all are connected; the whole state in the tooltip."""
        if not states:
            self.outputs.hide()
            return
        words = []
        for state in states:
            if state.state == "failed":
                words.append(f"{state.output_id} NOT CONNECTED")
            elif state.state == "buffering":
                words.append(f"{state.output_id} {state.waiting:,} waiting")
            else:
                words.append(f"{state.output_id} {state.state}")
        self.outputs.setText("  ".join(words))
        self.outputs.setToolTip("\n".join(state.describe() for state in states))
        healthy = all(s.state == "connected" and not s.dropped for s in states)
        style = f"color: {theme.TEXT if healthy else theme.WARNING_BACKGROUND};"
        if style != self.outputs.styleSheet():
            self.outputs.setStyleSheet(style)
            self.outputs.setFont(self._font)
        self.outputs.show()
