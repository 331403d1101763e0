from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from app.live_view import MAX_LABELS, LiveView, bounding_box, overlap_area, place_labels
from inspection.recipe import parse_recipe
from inspection.types import Frame, Overlay, Verdict


class _Camera:
    """Stands in for Station.newest_frame: returns whatever frame was put last."""

    def __init__(self) -> None:
        self.frame: Frame | None = None
        self.calls = 0

    def newest_frame(self, camera: str | None = None) -> Frame | None:
        self.calls += 1
        return self.frame


def _view(qtbot, camera: _Camera, recipe=None) -> LiveView:
    view = LiveView()
    qtbot.addWidget(view)
    view.resize(640, 480)
    view.set_source(camera.newest_frame, recipe)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_timer_puts_the_newest_frame_into_the_image_item(qtbot, make_frame) -> None:
    camera = _Camera()
    view = _view(qtbot, camera)
    qtbot.waitUntil(lambda: camera.calls > 0)  # polling before any frame exists is harmless
    assert view.image_item.image is None

    camera.frame = make_frame(1, value=40)
    qtbot.waitUntil(lambda: view.image_item.image is not None)

    image = view.image_item.image
    assert image.shape == (96, 128)
    assert image.dtype == np.uint8 and image.flags["C_CONTIGUOUS"]
    # uint8 shown as it is: levels would have pyqtgraph draw an indexed image, converted anew
    # at every paint of the view
    assert view.image_item.levels is None
    assert image[0, 0] == 40
    # pyqtgraph's own downsampling averages the whole frame in Python at each paint (~35 ms of
    # the GUI thread per 1.3 MP frame)
    assert view.image_item.autoDownsample is False
    assert view.frame_shape == (96, 128)


def test_a_frame_larger_than_the_view_is_scaled_once_and_keeps_its_coordinates(
    qtbot, make_frame, make_inspection
) -> None:
    camera = _Camera()
    view = _view(qtbot, camera)  # 640 x 480
    frame = make_frame(1, value=0)
    big = np.zeros((1024, 1280), np.uint8)
    big[500:524, 600:680] = 255  # a bright bar in the middle
    camera.frame = dataclasses.replace(frame, image=big)
    qtbot.waitUntil(lambda: view.image_item.image is not None)

    shown = view.image_item.image
    box = view._box.size()
    ratio = view.devicePixelRatioF()
    # what the screen has room for, not the camera's 1.3 MP drawn scaled at every paint
    assert shown.shape[1] <= box.width() * ratio + 1 and shown.shape[0] <= box.height() * ratio + 1
    assert shown.shape[1] / shown.shape[0] == pytest.approx(1280 / 1024, rel=0.01)
    assert view.frame_shape == (1024, 1280)
    # the item still spans the frame's own pixels: overlays and ROIs land where they did
    rect = view.image_item.mapRectToParent(view.image_item.boundingRect())
    assert (rect.x(), rect.y(), rect.width(), rect.height()) == pytest.approx((0, 0, 1280, 1024))
    # the bar is where it was, scaled
    sy, sx = shown.shape[0] / 1024, shown.shape[1] / 1280
    assert shown[round(512 * sy), round(640 * sx)] > 200
    assert shown[round(200 * sy), round(200 * sx)] == 0


def test_same_seq_is_not_redrawn_and_colour_becomes_rgb(qtbot, make_frame) -> None:
    camera = _Camera()
    view = _view(qtbot, camera)
    bgr = make_frame(5, colour=True, value=0)
    bgr.image[:, :] = (255, 0, 0)  # pure blue in BGR
    camera.frame = bgr
    qtbot.waitUntil(lambda: view.image_item.image is not None)
    shown = view.image_item.image
    assert shown.shape == (96, 128, 3)
    assert tuple(shown[0, 0]) == (0, 0, 255)  # blue in RGB

    # a different picture under the same seq is the same frame: not redrawn
    same_seq = make_frame(5, colour=True, value=99)
    camera.frame = same_seq
    view.refresh()
    assert view.image_item.image is shown

    camera.frame = make_frame(6, value=7)
    view.refresh()
    assert view.image_item.image.shape == (96, 128)
    assert view.image_item.image[0, 0] == 7


def test_overlay_items_are_made_once(qtbot, make_inspection) -> None:
    camera = _Camera()
    view = _view(qtbot, camera)
    items_before = list(view._box.addedItems)
    overlay_items = view.overlay_items()

    rng = np.random.default_rng(3)
    for seq in range(60):
        n = int(rng.integers(0, 12))
        overlays = tuple(
            Overlay(
                points=rng.uniform(0, 90, size=(4, 2)).astype(np.float32),
                label=f"code {i}",
                ok=bool(i % 2),
            )
            for i in range(n)
        )
        verdict = Verdict.FAIL if n % 2 else Verdict.PASS
        view.show_result(make_inspection(verdict, "x", seq=seq, overlays=overlays))

    assert list(view._box.addedItems) == items_before
    assert view.overlay_items() == overlay_items
    assert len(overlay_items) == 3 + MAX_LABELS


def test_result_polygons_and_labels_are_drawn(qtbot, make_inspection) -> None:
    camera = _Camera()
    view = _view(qtbot, camera)
    square = np.array([[10, 10], [50, 10], [50, 40], [10, 40]], dtype=np.float32)
    bad = Overlay(points=square, label="damaged code", ok=False)
    good = Overlay(points=square + 5, label="SN-0001", ok=True)

    view.show_result(make_inspection(Verdict.FAIL, "damaged code", seq=2, overlays=(bad, good)))

    _roi, ok_curve, bad_curve, *labels = view.overlay_items()
    bx, by = bad_curve.getData()
    assert np.nanmax(bx) == 50 and np.nanmin(by) == 10
    assert len(bx) == 6  # four corners, closing corner, NaN break
    assert len(ok_curve.getData()[0]) == 6
    visible = [label.textItem.toPlainText() for label in labels if label.isVisible()]
    assert visible == ["damaged code", "SN-0001"]
    assert view.image_item.image is not None  # the part's own frame is shown under its polygons


def test_recipe_rois_are_drawn(qtbot, make_frame) -> None:
    recipe = parse_recipe(
        {
            "name": "roi-test",
            "cameras": [{"id": "cam1", "source": {"type": "synthetic"}}],
            "tools": [
                {
                    "id": "serial",
                    "type": "codes",
                    "formats": ["DataMatrix"],
                    "roi": {"x": 10, "y": 20, "w": 30, "h": 40},
                }
            ],
        }
    )
    camera = _Camera()
    view = _view(qtbot, camera, recipe)
    x, y = view.overlay_items()[0].getData()
    assert (np.nanmin(x), np.nanmax(x), np.nanmin(y), np.nanmax(y)) == (10, 40, 20, 60)


def test_read_outs_are_placed_beside_their_regions_never_on_them() -> None:
    regions = [
        (100.0, 100.0, 300.0, 140.0),
        (100.0, 150.0, 300.0, 190.0),
        (560.0, 10.0, 640.0, 90.0),
    ]
    sizes = [(180.0, 24.0), (150.0, 24.0), (120.0, 24.0)]
    boxes = place_labels(regions, sizes, (640.0, 480.0), obstacles=[(320.0, 90.0, 420.0, 200.0)])
    for box, region, (w, h) in zip(boxes, regions, sizes, strict=True):
        assert overlap_area(box, region) == 0  # the text it read stays visible
        assert (box[2] - box[0], box[3] - box[1]) == (w, h)
        assert box[0] >= 0 and box[2] <= 640 and box[1] >= 0 and box[3] <= 480
    assert overlap_area(boxes[0], boxes[1]) == 0
    assert all(overlap_area(b, r) == 0 for b in boxes for r in regions)
    assert all(overlap_area(b, (320.0, 90.0, 420.0, 200.0)) == 0 for b in boxes)
    # the region at the right edge gets its read-out on another side, still inside the image
    assert boxes[2][2] <= 640


def test_drawn_read_outs_do_not_cover_what_they_read(qtbot, make_inspection) -> None:
    camera = _Camera()
    view = _view(qtbot, camera)
    code = np.array([[20, 20], [60, 20], [60, 50], [20, 50]], dtype=np.float32)
    text = np.array([[20, 55], [110, 55], [110, 70], [20, 70]], dtype=np.float32)
    overlays = (
        Overlay(points=code, label="SN-2507-134638", ok=True),
        Overlay(points=text, label="lot: L2507D", ok=False),
    )
    view.show_result(make_inspection(Verdict.FAIL, "lot", seq=1, overlays=overlays))
    _roi, _ok, _bad, *labels = view.overlay_items()
    shown = [label for label in labels if label.isVisible()]
    assert [label.textItem.toPlainText() for label in shown] == ["SN-2507-134638", "lot: L2507D"]
    for label, overlay in zip(shown, overlays, strict=True):
        # where it really is on screen, in image pixels
        drawn = label.mapRectToView(label.textItem.mapRectToParent(label.textItem.boundingRect()))
        box = (drawn.left(), drawn.top(), drawn.right(), drawn.bottom())
        assert overlap_area(box, bounding_box(overlay.points)) == 0, overlay.label
    assert len(view.label_boxes) == 2


def _feed(qtbot, view: LiveView, camera: _Camera, make_frame, first: int, n: int, gap_s: float):
    """New frames ``first`` .. ``first + n - 1``, one every ``gap_s``, each seen by the view."""
    for seq in range(first, first + n):
        camera.frame = make_frame(seq, value=seq % 200)
        qtbot.waitUntil(lambda s=seq: view._shown is not None and view._shown[1] == s)
        qtbot.wait(int(gap_s * 1000))


def test_a_result_holds_a_stream_briefly_and_a_triggered_part_longer(
    qtbot, make_frame, make_inspection
) -> None:
    from app.live_view import LIVE_RESULT_HOLD_S, RESULT_HOLD_S

    camera = _Camera()
    view = _view(qtbot, camera)
    # a stream: new frames every ~35 ms (the view's own 33 ms timer sets the pace)
    _feed(qtbot, view, camera, make_frame, 1, 12, 0.0)
    view.show_result(make_inspection(Verdict.PASS, "", seq=3))
    held = view._hold_until - time.monotonic()
    assert held <= LIVE_RESULT_HOLD_S
    camera.frame = make_frame(50, value=7)  # the stream goes on: shown once the hold is over
    qtbot.waitUntil(lambda: view._shown == ("cam1", 50), timeout=1000)
    # parts of a triggered camera: a new frame only every 0.25 s
    _feed(qtbot, view, camera, make_frame, 60, 8, 0.25)
    view.show_result(make_inspection(Verdict.PASS, "", seq=4))
    assert view._hold_until - time.monotonic() > LIVE_RESULT_HOLD_S
    assert view._hold_until - time.monotonic() <= RESULT_HOLD_S
