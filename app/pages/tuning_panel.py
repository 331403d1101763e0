"""The Tuning page's side panel: the candidate threshold or other limit (typed or dragged), what
it would do against the one in force, the core's suggestions, and Apply."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from inspection.tuning.suggest import BEST_YIELD, Suggestion, percent, suggest
from inspection.tuning.whatif import Counts, ThresholdView, change

NO_LABELS = "no labels"
LABEL_HINT = "Label parts on the Review page or import a CSV of labels to count these."


# (fails at, passes at) beside "good"/"bad" for each comparison
_SIDES = {"at_or_above": ("≥", "<"), "above": (">", "≤"), "below": ("<", "≥")}


def _signed(n: float, fmt: str = "+,d") -> str:
    return "±0" if n == 0 else format(n, fmt)


class CandidatePanel(QWidget):
    """``candidateTyped(float)``: a value entered in the spin box; ``suggestionChosen(float)``:
    a suggestion clicked; ``applyClicked()``: Apply pressed (enabled only for a new value)."""

    candidateTyped = Signal(float)
    suggestionChosen = Signal(float)
    applyClicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view: ThresholdView | None = None
        self.suggestions: list[Suggestion] = []
        self.candidate_spin = QDoubleSpinBox()
        self.candidate_spin.setDecimals(6)
        self.candidate_spin.setKeyboardTracking(False)  # a typed value counts once entered
        self.candidate_spin.valueChanged.connect(self.candidateTyped)
        self.in_force_label = QLabel("—")
        self.false_rejects_label = QLabel("—")
        self.escapes_label = QLabel("—")
        self.yield_label = QLabel("—")
        self.change_label = QLabel("—")
        self.hint_label = QLabel("")
        for label in (self.change_label, self.hint_label):
            label.setWordWrap(True)
        self.apply_button = QPushButton("Apply…")
        self.apply_button.setToolTip(
            "Make the candidate the tool's threshold (a new recipe version)"
        )
        self.apply_button.clicked.connect(self.applyClicked)
        self.candidate_title = QLabel("Candidate threshold")
        self.false_rejects_title = QLabel("False rejects (good ≥ it)")
        self.escapes_title = QLabel("Escapes (bad < it)")
        numbers = QFormLayout()
        numbers.addRow(self.candidate_title, self.candidate_spin)
        numbers.addRow("In force", self.in_force_label)
        numbers.addRow(self.false_rejects_title, self.false_rejects_label)
        numbers.addRow(self.escapes_title, self.escapes_label)
        numbers.addRow("Predicted yield", self.yield_label)
        numbers.addRow("Against the one in force", self.change_label)
        numbers.addRow(self.hint_label)
        numbers.addRow(self.apply_button)
        number_box = QGroupBox("What the candidate would do")
        number_box.setLayout(numbers)

        self.max_escapes_spin = QSpinBox()
        self.max_escapes_spin.setRange(1, 100_000)
        self.max_escapes_spin.valueChanged.connect(lambda _n: self.show_suggestions())
        self.suggestion_list = QListWidget()
        self.suggestion_list.setWordWrap(True)
        self.suggestion_list.itemClicked.connect(self._on_suggestion)
        escapes_row = QHBoxLayout()
        escapes_row.addWidget(QLabel("Best yield at ≤"))
        escapes_row.addWidget(self.max_escapes_spin)
        escapes_row.addWidget(QLabel("escapes"), 1)
        suggestion_box = QGroupBox("Suggestions (click one to try it)")
        suggestion_layout = QVBoxLayout(suggestion_box)
        suggestion_layout.addLayout(escapes_row)
        suggestion_layout.addWidget(self.suggestion_list)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(number_box)
        layout.addWidget(suggestion_box, 1)
        self.show_view(None)

    def show_view(self, view: ThresholdView | None, lo: float = 0.0, hi: float = 1.0) -> None:
        """A newly loaded view (None: nothing loaded); the spin box spans [lo, hi] widened."""
        self.view = view
        span = (hi - lo) or 1.0
        self.candidate_spin.blockSignals(True)
        self.candidate_spin.setRange(lo - span, hi + span)
        self.candidate_spin.setSingleStep(span / 100)
        self.candidate_spin.blockSignals(False)
        for w in (self.candidate_spin, self.max_escapes_spin):
            w.setEnabled(view is not None)
        self.apply_button.setEnabled(False)
        self._say_limit(view)
        in_force = None if view is None else view.in_force
        if view is None:
            text, hint = "—", ""
        else:
            text = "none recorded" if in_force is None else f"{in_force:.6g}"
            good, bad = len(view.good), len(view.bad)
            hint = "" if good and bad else f"Labelled: {good:,} good, {bad:,} bad. {LABEL_HINT}"
        self.in_force_label.setText(text)
        self.hint_label.setText(hint)
        for label in (
            self.false_rejects_label,
            self.escapes_label,
            self.yield_label,
            self.change_label,
        ):
            label.setText("—")
        self.show_suggestions()

    def _say_limit(self, view: ThresholdView | None) -> None:
        """Name the limit and which side fails: "Candidate min_match", "False rejects (good < it)"."""
        name = "threshold" if view is None else view.limit_name
        fails, passes = ("≥", "<") if view is None else _SIDES[view.decision.rejects]
        self.candidate_title.setText(f"Candidate {name}")
        self.false_rejects_title.setText(f"False rejects (good {fails} it)")
        self.escapes_title.setText(f"Escapes (bad {passes} it)")
        self.apply_button.setToolTip(
            f"Make the candidate the tool's {name} (a new recipe version, with a reason)"
        )

    def show_counts(self, c: Counts, current: Counts | None) -> None:
        """What the candidate (``c.threshold``) does, and its change against ``current``."""
        view = self.view
        if view is None:
            return
        self.candidate_spin.blockSignals(True)
        self.candidate_spin.setValue(c.threshold)
        self.candidate_spin.blockSignals(False)
        good, bad = len(view.good), len(view.bad)
        self.false_rejects_label.setText(
            f"{c.false_rejects:,} of {good:,} labelled good" if good else NO_LABELS
        )
        self.escapes_label.setText(f"{c.escapes:,} of {bad:,} labelled bad" if bad else NO_LABELS)
        self.yield_label.setText(f"{percent(c.yield_)} of {c.parts:,} parts")
        flips = (
            f"{c.newly_rejected:,} passes would be rejected, {c.newly_passed:,} rejects would pass"
        )
        if current is None:
            self.change_label.setText(f"no threshold in force to compare with; {flips}")
        else:
            d = change(current, c)
            parts = [f"yield {_signed(100 * d.yield_, '+.2f')} points"]
            if good:
                parts.append(f"false rejects {_signed(d.false_rejects)}")
            if bad:
                parts.append(f"escapes {_signed(d.escapes)}")
            self.change_label.setText("; ".join([*parts, flips]))
        in_force = view.in_force
        self.apply_button.setEnabled(
            in_force is None or not math.isclose(c.threshold, in_force, rel_tol=1e-9, abs_tol=1e-12)
        )

    def show_suggestions(self) -> None:
        """The core's suggestions for the view, at ≤ N escapes as the spin box says."""
        self.suggestion_list.clear()
        view, n = self.view, self.max_escapes_spin.value()
        self.suggestions = [] if view is None else suggest(view, n)
        for sug in self.suggestions:
            if sug.kind == BEST_YIELD:
                title = f"Best yield at ≤ {n} escapes"
            else:  # bad parts no value of the limit catches stay escapes
                title = "No escapes" if sug.escapes == 0 else "Fewest escapes"
            item = QListWidgetItem(f"{title}: {sug.threshold:.6g}\n{sug.why}")
            item.setData(Qt.ItemDataRole.UserRole, sug.threshold)
            self.suggestion_list.addItem(item)
        if view is not None and not self.suggestions:
            item = QListWidgetItem(
                "No suggestions: no part in this range is labelled defect or escape. " + LABEL_HINT
            )
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.suggestion_list.addItem(item)

    def _on_suggestion(self, item: QListWidgetItem) -> None:
        threshold = item.data(Qt.ItemDataRole.UserRole)
        if threshold is not None:
            self.suggestionChosen.emit(float(threshold))
