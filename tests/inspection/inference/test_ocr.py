"""OcrEngine on text the tests render with OpenCV, read by the real rapidocr models."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from support.text_images import text_image

from inspection.inference.ocr import OcrEngine, TextLine, _join_line_boxes, _like_widths


@pytest.fixture(scope="module")
def engine() -> OcrEngine:
    return OcrEngine(threads=1, det_side=640, fine_det_side=960)


def test_recognition_only_reads_a_lot_line(engine: OcrEngine) -> None:
    crop = text_image(["LOT L2507D"], width=300)
    (line,) = engine.recognize([crop])
    assert line.text.replace(" ", "") == "LOTL2507D"
    assert line.confidence > 0.8


def test_recognition_reads_a_batch_of_crops_in_order(engine: OcrEngine) -> None:
    crops = [text_image(["EXP 2030-06"]), text_image(["LOT L2507D"], width=300)]
    lines = engine.recognize(crops)
    assert [x.text.replace(" ", "") for x in lines] == ["EXP2030-06", "LOTL2507D"]


def test_empty_crop_is_refused_with_its_index(engine: OcrEngine) -> None:
    with pytest.raises(ValueError, match=r"\[1\]"):
        engine.recognize([text_image(["A"]), np.zeros((0, 5), np.uint8)])


def test_detection_finds_each_line_in_image_pixels(engine: OcrEngine) -> None:
    image = text_image(["COLD BREW 330 ML", "LOT L2507D", "EXP 2030-06"], width=520)
    boxes, scores = engine.detect(image)
    assert boxes.shape == (3, 4, 2) and scores.shape == (3,)
    centres_y = sorted(float(b[:, 1].mean()) for b in boxes)
    # lines sit at baselines 48, 98, 148: centres roughly 10 px above
    assert np.allclose(centres_y, [38, 88, 138], atol=8)


def test_read_stops_once_the_expected_text_is_seen(engine: OcrEngine) -> None:
    image = text_image(["COLD BREW 330 ML", "LOT L2507D", "EXP 2030-06"], width=520)
    everything = engine.read(image)
    assert len(everything.lines) == 3 and not everything.stopped_early

    def lot_first(box: np.ndarray, score: float) -> float:
        return -abs(float(box[:, 1].mean()) - 88)

    seen: list[TextLine] = []

    def accept(line: TextLine) -> bool:
        seen.append(line)
        return "L2507D" in line.text

    early = engine.read(image, accept=accept, priority=lot_first)
    assert early.stopped_early and early.accepted is not None
    assert "L2507D" in early.accepted.text
    assert early.accepted.box is not None and early.accepted.box.shape == (4, 2)
    # read in small batches, so the lines after the lot line were never all recognised
    assert len(early.lines) <= engine.rec_batch and seen[-1] is early.lines[-1]


def test_read_of_a_blank_image_finds_nothing(engine: OcrEngine) -> None:
    blank = np.full((200, 300, 3), 240, np.uint8)
    result = engine.read(blank, accept=lambda line: True)
    assert result.lines == () and result.boxes_found == 0 and not result.stopped_early


def box(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)


def test_boxes_side_by_side_on_a_line_are_joined() -> None:
    lot, number, far = box(10, 20, 60, 40), box(90, 21, 200, 41), box(400, 20, 450, 40)
    below = box(10, 60, 200, 80)
    joined = _join_line_boxes(np.stack([number, below, far, lot]))
    # the gap of 30 px is 1.5 box heights: one line; 200 px is not, nor is the line below
    assert joined.shape == (1, 4, 2)
    assert np.allclose(joined[0], [[10, 20], [200, 21], [200, 41], [10, 40]])
    three = _join_line_boxes(np.stack([lot, number, box(230, 20, 300, 40)]))
    assert len(three) == 3  # both pairs and the whole run
    assert np.allclose(three[:, :, 0].min(axis=1).min(), 10)
    assert float(three[:, :, 0].max(axis=1).max()) == 300
    assert _join_line_boxes(lot[None]).shape == (0, 4, 2)


def test_words_printed_far_apart_are_read_as_one_line(engine: OcrEngine) -> None:
    image = np.full((90, 560), 250, np.uint8)
    cv2.putText(image, "LOT", (12, 58), cv2.FONT_HERSHEY_DUPLEX, 1.2, 20, 2, cv2.LINE_AA)
    cv2.putText(image, "C7618", (12 + 140, 58), cv2.FONT_HERSHEY_DUPLEX, 1.2, 20, 2, cv2.LINE_AA)
    boxes, _ = engine.detect(image)
    assert len(boxes) == 2  # the detector sees two words
    result = engine.read(image, accept=lambda line: "LOTC7618" in line.text.replace(" ", ""))
    assert result.stopped_early and result.accepted is not None
    # read whole, without an accept the two words stay two lines
    assert len(engine.read(image).lines) == 2


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="det_side"):
        OcrEngine(det_side=10)


def test_short_crops_are_not_padded_to_a_fixed_width(engine: OcrEngine) -> None:
    # the recogniser's time grows with its input's width: a short field is read at its own width
    widths: list[int] = []
    run = engine._run_rec

    def recording(batch: np.ndarray) -> np.ndarray:
        widths.append(batch.shape[3])
        return run(batch)

    engine._run_rec = recording
    try:
        (line,) = engine.recognize([text_image(["LOT 7"], width=150)])
    finally:
        engine._run_rec = run
    assert line.text.replace(" ", "") == "LOT7"
    # 70 px high, 150 wide: read 48 high and about 103 wide (rapidocr alone pads to 320)
    assert widths == [pytest.approx(48 * 150 / 70, abs=2)]


def test_crops_of_unlike_widths_are_not_padded_to_one_run(engine: OcrEngine) -> None:
    widths: list[int] = []
    run = engine._run_rec

    def recording(batch: np.ndarray) -> np.ndarray:
        widths.extend([batch.shape[3]] * batch.shape[0])
        return run(batch)

    engine._run_rec = recording
    try:
        lines = engine.recognize(
            [
                text_image(["COLD BREW 330 ML"], width=460),
                text_image(["LOT 7"], width=150),
                text_image(["LOT 8"], width=150),
            ]
        )
    finally:
        engine._run_rec = run
    assert [x.text.replace(" ", "") for x in lines] == ["COLDBREW330ML", "LOT7", "LOT8"]
    # the two short crops share a run at their own width; the long one runs alone
    assert sorted(widths) == [pytest.approx(103, abs=2)] * 2 + [pytest.approx(315, abs=2)]


def test_runs_group_like_widths_narrowest_first() -> None:
    assert _like_widths([5.0, 5.4, 2.0, 5.45, 2.1], most=4) == [[2, 4], [0, 1, 3]]
    assert _like_widths([5.0, 5.6], most=4) == [[0], [1]]  # 12 % wider: a run of its own
    assert _like_widths([5.0, 5.0, 5.0], most=2) == [[0, 1], [2]]
    # under 1 the model pads to a square: those crops are all alike
    assert _like_widths([0.3, 0.9, 1.05], most=4) == [[0, 1, 2]]
