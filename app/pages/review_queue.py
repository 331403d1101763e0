"""The Review page's queue: its table of parts, and the labels on their way to the database.

Labels are written one after another, in the order they were given, as jobs of the window's
pool (never on the GUI thread). A write that fails stays at the head of the line, marked
"not saved" on its row, and is tried again with the next label or Retry: a label is never lost
silently. Undo takes the last label back: one not written yet never reaches the database; a
written one is withdrawn (``withdraw_label``), so the part's label is again what it was.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor

from app import theme
from app.jobs_bridge import PageJobs
from app.pages.history import load_image
from app.part_facts import number, when
from inspection.history.record import PartRecord, part_record
from inspection.jobs import Job
from inspection.paths import Paths
from inspection.storage.queries import open_reader
from inspection.tuning.labels import Label, LabelError, set_label, withdraw_label
from inspection.tuning.queue import ReviewItem

log = logging.getLogger(__name__)

ModelIndex = QModelIndex | QPersistentModelIndex
GivenState = Literal["saving", "saved", "not saved", "refused", "undone"]
UNSAVED = ("not saved", "refused", "undo not saved")
Loaded = tuple[PartRecord | None, np.ndarray | None]  # a part's record and image (None: gone)
COLUMNS = ("Time", "Part", "Verdict", "Score / threshold", "Label")


@dataclass(slots=True, kw_only=True)
class GivenLabel:
    """A label given in this session. Mutable on purpose: its ``state`` follows the write
    (saving → saved, or not saved until a retry works; undone once taken back)."""

    part_id: int
    inspection_id: str
    label: Label
    reason: str
    tool: str
    previous: Label | None
    state: GivenState = "saving"
    stored_id: int | None = None
    error: str = ""
    taking_back: bool = False  # Undo asked for; "undone" once done

    def shown(self) -> tuple[Label | None, str]:
        """What the part's row says now: the label in force and its write state."""
        if self.state == "undone":
            return self.previous, ""
        if self.taking_back and self.state == "saved":  # being withdrawn
            return (self.label, "undo not saved") if self.error else (self.previous, "saving")
        return self.label, "" if self.state == "saved" else self.state


def score_text(item: ReviewItem) -> str:
    if item.score is None:
        return "—"
    if item.threshold is None:
        return number(item.score)
    return f"{number(item.score)} / {number(item.threshold)}"


def counts_text(given: Sequence[GivenLabel], left: int, more: bool, unsaved: int) -> str:
    """The session's tally: labels given (per label), parts left (``more``: pages to come)."""
    kept = Counter(g.label for g in given if g.state != "undone")
    per_label = " · ".join(f"{label.value} {kept[label]}" for label in Label if kept[label])
    return (
        f"This session: {sum(kept.values())} labelled"
        + (f" ({per_label})" if per_label else "")
        + f" · {left}{'+' if more else ''} left in the queue"
        + (f" · {unsaved} not saved yet" if unsaved else "")
    )


class QueueModel(QAbstractTableModel):
    """The queue's parts, newest first; each row's label as the page knows it (written or not)."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[ReviewItem] = []
        self.labels: dict[int, tuple[Label | None, str]] = {}  # part id → (label, write state)

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's default
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def label_of(self, row: int) -> Label | None:
        return self.labels[self.items[row].part_id][0]

    def label_text(self, row: int) -> str:
        label, state = self.labels[self.items[row].part_id]
        text = label.value if label is not None else "—"
        return text if state in ("", "saved") else f"{text} ({state})"

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item, column = self.items[index.row()], index.column()
        if role == Qt.ItemDataRole.ToolTipRole and column == 1:
            return f"part #{item.part_number} · inspection {item.inspection_id}"
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if column == 0:
                return when(item.wall_time)
            if column == 1:
                # the number operators and History use; the 32-digit id pushed the score and
                # the label out of sight at 1366 px (it is in the tooltip)
                return f"#{item.part_number}"
            if column == 2:
                return item.verdict.value
            if column == 3:
                return score_text(item)
            return self.label_text(index.row())
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == 2:
                return QBrush(QColor(theme.VERDICT_BACKGROUND[item.verdict]))
            if column == 4 and self.labels[item.part_id][1] in UNSAVED:
                return QBrush(QColor("#ff6b6b"))
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def clear(self) -> None:
        self.beginResetModel()
        self.items, self.labels = [], {}
        self.endResetModel()

    def append(self, items: Sequence[ReviewItem]) -> None:
        fresh = [i for i in items if i.part_id not in self.labels]
        if not fresh:
            return
        first = len(self.items)
        self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
        self.items.extend(fresh)
        self.labels.update({i.part_id: (i.label, "") for i in fresh})
        self.endInsertRows()

    def set_label(self, part_id: int, label: Label | None, state: str) -> None:
        """Show ``label`` on the part's row; ``state``: '' / saved, saving, not saved, refused."""
        if part_id not in self.labels:
            return  # the queue was reloaded meanwhile; its rows came with their labels
        self.labels[part_id] = (label, state)
        row = next(r for r, i in enumerate(self.items) if i.part_id == part_id)
        self.dataChanged.emit(self.index(row, 4), self.index(row, 4))

    def unlabelled_from(self, row: int) -> int:
        """Parts from ``row`` on without a label."""
        return sum(1 for i in self.items[row:] if self.labels[i.part_id][0] is None)


class LabelWriter(QObject):
    """Writes the session's labels in order, one job at a time; ``changed(GivenLabel)`` when a
    label's state changes, ``failed(str)`` when a write did not go through."""

    changed = Signal(object)
    failed = Signal(str)

    def __init__(self, db: Path, jobs: PageJobs, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self._jobs = jobs
        self._queue: deque[tuple[str, GivenLabel]] = deque()  # ("set" | "withdraw", label)
        self._running = False
        self._held = False  # after a failure, until retry()

    @property
    def unsaved(self) -> int:
        """Labels given but not (yet) in the database."""
        return sum(1 for op, _ in self._queue if op == "set")

    @property
    def held(self) -> bool:
        """A write failed and waits for retry()."""
        return self._held

    @property
    def idle(self) -> bool:
        return not self._queue

    def give(self, given: GivenLabel) -> None:
        self._queue.append(("set", given))
        self.retry()  # the next label also retries one that failed

    def take_back(self, given: GivenLabel) -> None:
        given.taking_back = True
        waiting = [k for k, (op, g) in enumerate(self._queue) if op == "set" and g is given]
        if given.state == "refused" or (waiting and not (self._running and waiting[0] == 0)):
            if waiting:  # never reached the database: nothing to withdraw
                del self._queue[waiting[0]]
                self._held = self._held and waiting[0] != 0  # the failed write was this one
            given.state = "undone"
            self.changed.emit(given)
            self._next()
            return
        self._queue.append(("withdraw", given))
        self._next()

    def retry(self) -> None:
        self._held = False
        self._next()

    def _next(self) -> None:
        if self._running or self._held or not self._queue:
            return
        op, given = self._queue[0]
        self._running = True
        given.error = ""
        db = self.db

        def write(_progress: Any, _cancel: threading.Event) -> int:
            if op == "set":
                return set_label(db, given.part_id, given.label, given.reason, tool=given.tool).id
            assert given.stored_id is not None  # its "set" ran before, in queue order
            withdraw_label(db, given.stored_id)
            return given.stored_id

        self._jobs.submit("review-label", write, partial(self._done, op, given))

    def _done(self, op: str, given: GivenLabel, job: Job[int]) -> None:
        self._running = False
        error = job.error
        if error is not None and not isinstance(error, LabelError):
            # the database did not take it (locked, disk, ...): keep it and try again later
            self._held = True
            given.error = str(error)
            if op == "set":
                given.state = "not saved"
            log.warning("label of part %s not written: %s", given.inspection_id, error)
            self.changed.emit(given)
            self.failed.emit(f"Label of {given.inspection_id} not saved: {error}")
            return
        self._queue.popleft()
        if error is not None:  # refused for good (the part is gone): said, never retried
            given.error = str(error)
            if op == "set":
                given.state = "refused"
            else:
                given.taking_back = False  # it stays the label in force
            self.changed.emit(given)
            self.failed.emit(f"Label of {given.inspection_id} refused: {error}")
        elif op == "set":
            given.stored_id = job.result()
            given.state = "saved"
            self.changed.emit(given)
        else:
            given.state = "undone"
            self.changed.emit(given)
        self._next()


class ReadAhead(QObject):
    """Parts' records and images read in the pool before they are needed, so the next part is
    shown the moment the engineer moves on. ``read(part id, Loaded)`` when one arrives."""

    read = Signal(int, object)
    failed = Signal(str)

    def __init__(self, paths: Paths, jobs: PageJobs, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.paths = paths
        self._jobs = jobs
        self._read: dict[int, Loaded] = {}
        self._reading: set[int] = set()
        self._gen = 0

    def get(self, part_id: int) -> Loaded | None:
        return self._read.get(part_id)

    def keep_only(self, part_ids: set[int]) -> None:
        """Forget the parts far from the current one (images are large)."""
        self._read = {k: v for k, v in self._read.items() if k in part_ids}

    def clear(self) -> None:
        """A new queue: what is on its way is dropped when it arrives."""
        self._read.clear()
        self._reading = set()
        self._gen += 1

    def request(self, item: ReviewItem) -> None:
        """Read ``item``'s part unless it is in memory or on its way."""
        if item.part_id in self._read or item.part_id in self._reading:
            return
        self._reading.add(item.part_id)
        db, archive, inspection_id = self.paths.results_db, self.paths.archive, item.inspection_id

        def read(_progress: Any, _cancel: threading.Event) -> Loaded:
            conn = open_reader(db)
            try:
                record = part_record(conn, inspection_id, archive)
            finally:
                conn.close()
            return record, load_image(record.image) if record is not None else None

        self._jobs.submit("review-part", read, partial(self._done, self._gen, item.part_id))

    def _done(self, gen: int, part_id: int, job: Job[Loaded]) -> None:
        if gen != self._gen:
            return  # read for a queue that was replaced
        self._reading.discard(part_id)
        if job.error is not None:
            self.failed.emit(f"Part not readable: {job.error}")
            return
        self._read[part_id] = job.result()
        self.read.emit(part_id, self._read[part_id])
