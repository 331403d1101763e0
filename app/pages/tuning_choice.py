"""The Tuning page's choice of what to tune and its load: a tool of the range, then one of its
limits (its score threshold, or the label's offset, rotation, match, a field's OCR confidence, the
defect tool's minimum area), as the core lists them (``parameter_scores.tunable_parameters``),
and the job that loads the chosen pair."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QComboBox

from inspection.paths import Paths
from inspection.tuning.parameter_scores import TunableParameters, load_parameter_scores
from inspection.tuning.parameters import THRESHOLD
from inspection.tuning.recipe_limits import recipe_files
from inspection.tuning.whatif import Curves, Histogram, ThresholdView

BINS = 60


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class TuningLoad:
    """One tool's loaded scores (or a parameter's values), made ready for the page off the GUI
    thread."""

    view: ThresholdView
    histogram: Histogram
    curves: Curves
    seconds: float


def load_tuning(
    db: Path,
    tool: str,
    start: float,
    end: float,
    bins: int = BINS,
    *,
    parameter: str = THRESHOLD,
    paths: Paths | None = None,
    recipe_file: Path | None = None,
) -> TuningLoad:
    """Load ``tool``'s scores (or ``parameter``'s values, with the limits in force from the
    recipe versions kept with ``recipe_file``, the user's recipe folder of ``paths`` and the
    shipped recipes) over [start, end) and what the page draws of them (a job)."""
    began = time.monotonic()
    recipes = (
        [] if parameter == THRESHOLD else recipe_files(paths, [recipe_file] if recipe_file else [])
    )
    loaded = load_parameter_scores(db, tool, parameter, start, end, recipe_files=recipes)
    view = loaded.view()
    return TuningLoad(
        view=view,
        histogram=view.histogram(bins),
        curves=view.curves(),
        seconds=time.monotonic() - began,
    )


class LimitChoice(QObject):
    """Two combo boxes: ``tool_combo`` (tool ids) and ``parameter_combo`` (that tool's limits).
    ``chosen()`` once the engineer picks either (the page then loads the pair)."""

    chosen = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tools: dict[str, TunableParameters] = {}
        self.tool_combo = QComboBox()
        self.tool_combo.setMinimumContentsLength(24)
        self.tool_combo.activated.connect(lambda _i: self._tool_chosen())
        self.parameter_combo = QComboBox()
        self.parameter_combo.setMinimumContentsLength(18)
        self.parameter_combo.setToolTip(
            "The limit to try: the tool's score threshold, or another of its limits "
            "(label offset, rotation, match, a field's OCR confidence; defect minimum area)"
        )
        self.parameter_combo.activated.connect(lambda _i: self.chosen.emit())

    @property
    def tool(self) -> str | None:
        data = self.tool_combo.currentData()
        return None if data is None else str(data)

    @property
    def parameter(self) -> str:
        return str(self.parameter_combo.currentData() or THRESHOLD)

    def list_tools(self, found: list[TunableParameters]) -> None:
        """Offer ``found``, keeping the tool and limit chosen before when still there (no
        ``chosen`` signal: the caller loads)."""
        before = self.tool_combo.currentData()
        self.tools = {tool.tool_id: tool for tool in found}
        self.tool_combo.clear()
        for tool in found:
            self.tool_combo.addItem(f"{tool.tool_id} ({tool.tool_type})", tool.tool_id)
        self.tool_combo.setCurrentIndex(max(self.tool_combo.findData(before), 0))
        self._list_parameters()

    def _list_parameters(self) -> None:
        tool = self.tools.get(str(self.tool_combo.currentData()))
        before = self.parameter_combo.currentData()
        self.parameter_combo.clear()
        for name in tool.parameters if tool is not None else ():
            self.parameter_combo.addItem(name, name)
        self.parameter_combo.setCurrentIndex(max(self.parameter_combo.findData(before), 0))

    def _tool_chosen(self) -> None:
        self._list_parameters()
        self.chosen.emit()

    def choose(self, tool: str, parameter: str = THRESHOLD) -> None:
        """Choose ``tool`` and its ``parameter`` as the engineer would (``chosen`` once);
        ValueError when either is not offered."""
        at = self.tool_combo.findData(tool)
        if at < 0:
            raise ValueError(f"tool {tool!r} is not listed")
        self.tool_combo.setCurrentIndex(at)
        self._list_parameters()
        at = self.parameter_combo.findData(parameter)
        if at < 0:
            listed = [self.parameter_combo.itemData(i) for i in range(self.parameter_combo.count())]
            raise ValueError(f"{tool} has no tunable {parameter!r}; it has {listed}")
        self.parameter_combo.setCurrentIndex(at)
        self.chosen.emit()
