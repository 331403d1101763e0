"""The part dialog: one part's image with overlays, verdict, each tool's full result, timings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from support.windows import close_window, open_window

from app import theme
from app.part_dialog import PartDialog
from app.part_facts import detail_lines, number, timing_lines
from inspection.types import Frame, Inspection, Overlay, Region, Timing, ToolResult, Verdict

LONG_REASON = (
    "code 'SN-000123-XYZ' does not match the expected format ^SN-\\d{6}$ and the label text "
    "'LOT 4711' disagrees with the batch entered at the start of the shift (LOT 4712) — end"
)
FINDING = np.array([[30, 15], [70, 15], [70, 40], [30, 40]], dtype=np.float32)


def _part(make_frame, *, frames: tuple[Frame, ...] | None = None) -> Inspection:
    serial = ToolResult(
        tool_id="serial",
        tool_type="codes",
        verdict=Verdict.FAIL,
        reason=LONG_REASON,
        measurements={"codes_read": 1.0, "quality_min": 0.87312},
        details={
            "codes": [{"text": "<SN-000123-XYZ>", "format": "DataMatrix", "content": "text"}],
            "attempt": "sharpen",
        },
        overlays=(Overlay(points=FINDING, label="SN-000123-XYZ", ok=False),),
        roi=Region(x=10, y=5, w=100, h=60),
        camera="cam1",
        duration_ns=12_300_000,
    )
    surface = ToolResult(
        tool_id="surface",
        tool_type="anomaly",
        verdict=Verdict.PASS,
        measurements={"score": 0.2134, "threshold": 0.5},
        roi=Region(x=0, y=70, w=128, h=26),
        camera="cam1",
    )
    return Inspection(
        inspection_id="part-41",
        station="line-3",
        part_seq=41,
        verdict=Verdict.FAIL,
        reason=f"serial: {LONG_REASON}",
        tool_results=(serial, surface),
        frames=frames if frames is not None else (make_frame(7, colour=True),),
        recipe_name="caps",
        recipe_version="7",
        model_hashes={
            "surface": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        },
        timing=Timing(
            captured_ns=1_000_000,
            queued_ns=2_200_000,
            started_ns=2_500_000,
            decided_ns=23_000_000,
            dispatched_ns=23_600_000,
        ),
        wall_time=1_700_000_000.0,
    )


def _dialog(qtbot, inspection: Inspection) -> PartDialog:
    dialog = PartDialog(inspection)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def _all_text(dialog: PartDialog) -> str:
    return "\n".join(label.text() for label in dialog.findChildren(QLabel))


def _curve_points(item: object) -> set[tuple[float, float]]:
    x, y = item.getData()  # type: ignore[attr-defined]
    if x is None:
        return set()
    return {(float(a), float(b)) for a, b in zip(x, y, strict=True) if np.isfinite(a)}


def test_shows_verdict_part_recipe_and_models(qtbot, make_frame) -> None:
    dialog = _dialog(qtbot, _part(make_frame))
    assert dialog.verdict_label.text() == "FAIL"
    assert theme.VERDICT_BACKGROUND[Verdict.FAIL] in dialog.verdict_label.styleSheet()
    assert theme.VERDICT_TEXT[Verdict.FAIL] in dialog.verdict_label.styleSheet()
    assert dialog.verdict_label.font().pixelSize() >= 60
    assert "Part #42" in dialog.part_label.text()  # part_seq 41, counted from 1
    assert dialog.reason_label.text() == f"serial: {LONG_REASON}"
    facts = dialog.facts_label.text()
    assert "caps v7" in facts and "line-3" in facts
    assert "surface: e3b0c44298fc" in facts and "e3b0c44298fc1c" not in facts  # short hash
    assert "Part #42" in dialog.windowTitle()


def test_every_tool_reason_is_shown_in_full_and_wraps(qtbot, make_frame) -> None:
    assert len(LONG_REASON) > 120
    dialog = _dialog(qtbot, _part(make_frame))
    cards = {card.result.tool_id: card for card in dialog.tool_cards}
    assert set(cards) == {"serial", "surface"}
    reason = cards["serial"].reason
    assert reason.text() == LONG_REASON
    assert reason.wordWrap() and reason.isVisible()
    # laid out tall enough for every wrapped line: nothing is cut off
    assert reason.height() >= reason.heightForWidth(reason.width())
    assert cards["serial"].verdict.text() == "FAIL"
    assert theme.VERDICT_BACKGROUND[Verdict.FAIL] in cards["serial"].verdict.styleSheet()
    assert cards["surface"].verdict.text() == "PASS"
    assert theme.VERDICT_BACKGROUND[Verdict.PASS] in cards["surface"].verdict.styleSheet()
    # the reason column scrolls rather than squeezing the text
    assert dialog.scroll.widgetResizable()


def test_measurements_details_and_timings_are_listed(qtbot, make_frame) -> None:
    dialog = _dialog(qtbot, _part(make_frame))
    serial = next(c for c in dialog.tool_cards if c.result.tool_id == "serial")
    assert serial.measurements.text().splitlines() == ["codes_read = 1", "quality_min = 0.8731"]
    # decoded text is data: shown literally, not read as markup
    assert serial.details.textFormat() == Qt.TextFormat.PlainText
    assert "read DataMatrix: '<SN-000123-XYZ>'" in serial.details.text()
    assert "attempt = sharpen" in serial.details.text()
    assert "codes tool" in serial.where.text() and "12.3 ms" in serial.where.text()
    timings = dialog.timings_label.text()
    assert "capture → queued: 1.2 ms" in timings
    assert "started → decided: 20.5 ms" in timings
    assert "capture → dispatched (total): 22.6 ms" in timings


def test_image_item_holds_the_frame_with_overlays_and_rois(qtbot, make_frame) -> None:
    inspection = _part(make_frame)
    dialog = _dialog(qtbot, inspection)
    assert list(dialog.views) == ["cam1"]
    assert dialog.no_image is None
    view = dialog.views["cam1"]
    rgb = cv2.cvtColor(inspection.frames[0].image, cv2.COLOR_BGR2RGB)
    assert np.array_equal(view.image_item.image, rgb)

    drawn: set[tuple[float, float]] = set()
    for item in view.overlay_items():
        if isinstance(item, pg.PlotCurveItem):
            drawn |= _curve_points(item)
    assert {(float(x), float(y)) for x, y in FINDING} <= drawn
    texts = [i.toPlainText() for i in view.overlay_items() if isinstance(i, pg.TextItem)]
    assert "SN-000123-XYZ" in texts

    # each tool's ROI as a dashed rectangle, labelled with the tool and its verdict
    rois = _curve_points(dialog.roi_curves["cam1"])
    assert {(10.0, 5.0), (110.0, 5.0), (110.0, 65.0), (10.0, 65.0)} <= rois
    assert {(0.0, 70.0), (128.0, 96.0)} <= rois
    labels = [label.toPlainText() for label in dialog.roi_labels["cam1"]]
    assert labels == ["serial FAIL", "surface PASS"]


def test_each_camera_gets_a_tab_with_its_own_frame_and_results(qtbot, make_frame) -> None:
    top = make_frame(3)
    side = dataclasses.replace(make_frame(3, value=60), camera="side")
    inspection = _part(make_frame, frames=(top, side))
    side_result = ToolResult(
        tool_id="cap",
        tool_type="detector",
        verdict=Verdict.PASS,
        roi=Region(x=1, y=2, w=30, h=40),
        camera="side",
    )
    inspection = dataclasses.replace(
        inspection, tool_results=(*inspection.tool_results, side_result)
    )
    dialog = _dialog(qtbot, inspection)
    tabs = dialog.camera_tabs
    assert tabs is not None
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["cam1", "side"]
    assert np.array_equal(dialog.views["cam1"].image_item.image, top.image)
    assert np.array_equal(dialog.views["side"].image_item.image, side.image)
    assert [lbl.toPlainText() for lbl in dialog.roi_labels["side"]] == ["cap PASS"]
    assert (31.0, 42.0) not in _curve_points(dialog.roi_curves["cam1"])
    assert len(dialog.tool_cards) == 3


def test_part_without_a_frame_shows_no_image_and_still_the_results(qtbot, make_frame) -> None:
    camera_lost = ToolResult(
        tool_id="acquisition",
        tool_type="camera",
        verdict=Verdict.ERROR,
        reason="camera cam1 lost: no frame within 500 ms",
    )
    inspection = dataclasses.replace(
        _part(make_frame, frames=()),
        verdict=Verdict.ERROR,
        reason="acquisition: camera cam1 lost: no frame within 500 ms",
        tool_results=(camera_lost,),
    )
    dialog = _dialog(qtbot, inspection)
    assert not dialog.views
    assert dialog.no_image is not None and dialog.no_image.isVisible()
    assert dialog.no_image.text() == "no image"
    assert dialog.verdict_label.text() == "ERROR"
    assert theme.VERDICT_BACKGROUND[Verdict.ERROR] in dialog.verdict_label.styleSheet()
    assert [c.reason.text() for c in dialog.tool_cards] == [camera_lost.reason]
    assert "no frame within 500 ms" in _all_text(dialog)


def test_fits_the_screen_and_closes_with_a_big_button(qtbot, make_frame) -> None:
    dialog = _dialog(qtbot, _part(make_frame))
    available = dialog.screen().availableGeometry()
    assert dialog.width() <= available.width() * 0.9
    assert dialog.height() <= available.height() * 0.9
    assert dialog.close_button.height() >= theme.button_height(dialog)
    assert dialog.close_button.isVisible()
    dialog.close_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible())


def test_dialog_panels_are_dark_with_light_text(qtbot, make_frame) -> None:
    dialog = _dialog(qtbot, _part(make_frame))
    image = dialog.scroll.viewport().grab().toImage()
    # the scroll area's background is the theme's dark one, not the platform's light palette
    corner = image.pixelColor(image.width() - 2, image.height() - 2)
    assert corner.lightness() < 60, corner.name()
    reason = next(c for c in dialog.tool_cards if c.result.tool_id == "serial").reason
    assert reason.palette().color(reason.foregroundRole()).lightness() > 200


@pytest.mark.parametrize(
    ("value", "text"),
    [(2.0, "2"), (0.87312, "0.8731"), (1234.567, "1234.6"), (float("nan"), "—")],
)
def test_numbers_read_plainly(value: float, text: str) -> None:
    assert number(value) == text


def test_detail_lines_name_key_facts() -> None:
    lines = detail_lines(
        {
            "fields": [
                {"name": "lot", "value": "L4711", "verdict": "FAIL", "reason": "expected L4712"}
            ],
            "detections": [{"class": "crack", "confidence": 0.91, "fails": True}],
            "regions": [{"x": 1}, {"x": 2}],
            "regions_total": 5,
            "box": [1, 2],
        }
    )
    assert lines == [
        "lot: 'L4711' — FAIL: expected L4712",
        "found crack (0.91) — reject",
        "regions = 5",
        "box = [1, 2]",
    ]
    assert timing_lines(Timing(captured_ns=1_000_000, queued_ns=3_000_000))[:2] == [
        "capture → queued: 2.0 ms",
        "queued → started: —",
    ]


def test_main_window_opens_the_part_the_screen_asks_for(
    qtbot, folder_recipe: Path, make_inspection
) -> None:
    window = open_window(qtbot, folder_recipe, start=False)
    inspection = make_inspection(Verdict.FAIL, "serial: no code found", seq=4)

    window.screen_widget.partOpened.emit(inspection)

    # a rejected part is the quality engineer's: it opens in History, with its full record
    assert window.pages.current_name == "History"
    shown = window.history_page.detail.record
    assert shown is not None and shown.part.inspection_id == inspection.inspection_id
    assert not window.findChildren(PartDialog)

    passed = make_inspection(Verdict.PASS, seq=5)
    window.screen_widget.partOpened.emit(passed)  # a good part: the quick look stays
    dialogs = window.findChildren(PartDialog)
    assert len(dialogs) == 1
    dialog = dialogs[0]
    assert dialog.inspection is passed
    assert dialog.isVisible() and not dialog.isModal()
    assert dialog.testAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    assert "Part #6" in dialog.part_label.text()
    dialog.close_button.click()
    qtbot.waitUntil(lambda: not window.findChildren(PartDialog))
    close_window(qtbot, window)


def test_open_part_shows_a_non_modal_dialog_that_goes_away_on_close(
    qtbot, folder_recipe: Path, make_inspection
) -> None:
    window = open_window(qtbot, folder_recipe, start=False)
    inspection = make_inspection(Verdict.PASS, seq=9)

    dialog = window.open_part(inspection)

    assert dialog.parent() is window
    assert dialog.isVisible() and not dialog.isModal()
    assert dialog.verdict_label.text() == "PASS"
    assert np.array_equal(dialog.views["cam1"].image_item.image, inspection.frames[0].image)
    dialog.close_button.click()
    qtbot.waitUntil(lambda: not window.findChildren(PartDialog))  # deleted on close
    close_window(qtbot, window)


def test_touching_a_strip_tile_opens_that_part(qtbot, folder_recipe: Path, make_inspection) -> None:
    window = open_window(qtbot, folder_recipe, start=False)
    recipe = window.recipe
    assert recipe is not None
    screen = window.screen_widget
    older = make_inspection(
        Verdict.FAIL,
        "serial: no code found",
        seq=2,
        recipe_name=recipe.name,
        recipe_version=recipe.version,
    )
    newer = make_inspection(
        Verdict.PASS, seq=3, recipe_name=recipe.name, recipe_version=recipe.version
    )
    screen.show_inspection(older)
    screen.show_inspection(newer)

    tile = screen.strip.tiles()[1]  # newest first: the second tile is the older part
    qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)

    assert window.pages.current_name == "History"
    shown = window.history_page.detail.record
    assert shown is not None and shown.part.inspection_id == older.inspection_id
    assert "serial: no code found" in window.history_page.detail.texts()
    close_window(qtbot, window)
