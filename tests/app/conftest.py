"""GUI test fixtures: offscreen Qt, row-major images, hand-built inspections, small recipes."""

from __future__ import annotations

import os

# Before anything loads Qt: the tests run on machines without a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import QMessageBox

from inspection.types import Frame, Inspection, Overlay, ToolResult, Verdict

InspectionFactory = Callable[..., Inspection]


@pytest.fixture(autouse=True)
def row_major_images() -> Iterator[None]:
    """What app.launch sets at start-up."""
    old = pg.getConfigOption("imageAxisOrder")
    pg.setConfigOptions(imageAxisOrder="row-major")
    yield
    pg.setConfigOptions(imageAxisOrder=old)


def _frame(seq: int, *, colour: bool = False, value: int = 128) -> Frame:
    shape = (96, 128, 3) if colour else (96, 128)
    image = np.full(shape, value, dtype=np.uint8)
    image[10:30, 20:60] = 255 - value  # something for the thumbnail to show
    return Frame(camera="cam1", seq=seq, t_ns=seq * 1_000_000, image=image)


@pytest.fixture
def make_frame() -> Callable[..., Frame]:
    return _frame


@pytest.fixture
def make_inspection() -> InspectionFactory:
    """An Inspection as the station would publish it, built by hand."""

    def make(
        verdict: Verdict,
        reason: str = "",
        *,
        seq: int = 0,
        overlays: tuple[Overlay, ...] = (),
        recipe_name: str = "demo",
        recipe_version: str = "1",
    ) -> Inspection:
        result = ToolResult(
            tool_id="serial",
            tool_type="codes",
            verdict=verdict,
            reason=reason,
            overlays=overlays,
        )
        return Inspection(
            inspection_id=f"id-{seq}",
            station="demo-station",
            part_seq=seq,
            verdict=verdict,
            reason=reason,
            tool_results=(result,),
            frames=(_frame(seq),),
            recipe_name=recipe_name,
            recipe_version=recipe_version,
            wall_time=1_700_000_000.0 + seq,
        )

    return make


def write_folder_recipe(
    folder: Path, *, name: str = "folderline", images: int = 4, loop: bool = True
) -> Path:
    """A recipe reading blank images from a folder with the code tool: each part FAILs (no code)."""
    img_dir = folder / f"{name}-images"
    img_dir.mkdir(parents=True, exist_ok=True)
    for i in range(images):
        image = np.full((240, 320), 200, dtype=np.uint8)
        cv2.putText(image, f"part {i}", (20, 120), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 0, 3)
        cv2.imwrite(str(img_dir / f"{i:03d}.png"), image)
    recipe = folder / f"{name}.yaml"
    recipe.write_text(
        f"""schema_version: 1
name: {name}
station: test-station
cameras:
  - id: cam1
    source:
      type: folder
      path: {img_dir.name}
      loop: {str(loop).lower()}
tools:
  - id: serial
    type: codes
    formats: [DataMatrix]
    roi: {{x: 10, y: 20, w: 100, h: 80}}
    time_budget_ms: 50
pipeline:
  workers: 1
  queue_size: 4
""",
        encoding="utf-8",
    )
    return recipe


@pytest.fixture
def folder_recipe(tmp_path: Path) -> Path:
    return write_folder_recipe(tmp_path)


@pytest.fixture
def recipe_writer() -> Callable[..., Path]:
    return write_folder_recipe


@pytest.fixture
def critical_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """QMessageBox.critical recorded instead of blocking the test on a modal dialog."""
    calls: list[tuple[str, str]] = []

    def record(parent, title, text, *args, **kwargs):
        calls.append((title, text))
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "critical", staticmethod(record))
    return calls


class Questions:
    """The questions app.confirm asked (title, question, cost), answered with ``reply``.

    ``reply``: True / False for ``confirm.ask``; an ``Unsaved`` answer for ``unsaved_changes``.
    """

    def __init__(self) -> None:
        self.asked: list[tuple[str, str, str]] = []
        self.reply: object = True
        self.unsaved_reply: object = None

    @property
    def titles(self) -> list[str]:
        return [title for title, _question, _cost in self.asked]


@pytest.fixture
def questions(monkeypatch: pytest.MonkeyPatch) -> Questions:
    """app.confirm's questions recorded and answered instead of blocking on a modal box."""
    from app import confirm

    recorded = Questions()
    recorded.unsaved_reply = confirm.Unsaved.CANCEL

    def ask(parent, title, question, cost, **kwargs):
        recorded.asked.append((title, question, cost))
        return bool(recorded.reply)

    def unsaved_changes(parent, what, cost):
        recorded.asked.append(("Unsaved changes", f"Discard your changes to {what}?", cost))
        return recorded.unsaved_reply

    monkeypatch.setattr(confirm, "ask", ask)
    monkeypatch.setattr(confirm, "unsaved_changes", unsaved_changes)
    return recorded
