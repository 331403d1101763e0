"""Text reading with rapidocr (PP-OCR ONNX models shipped in its wheel), sized for verification.

Two ways in: ``recognize`` reads crops that already hold one text line each (the fast path: the
label tool knows where its fields are), and ``read`` finds text lines first and recognises them,
most promising first, stopping as soon as the caller has seen what it needed (``accept``).

The detector runs on an image we shrink ourselves to ``det_side`` px (its own default enlarges to
~2200 px and costs ~1 s here); recognition crops always come from the full-resolution image.
Nothing is downloaded: the models are in the installed package, and an engine is built only when
an ``OcrEngine`` is made, never at import.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from inspection.errors import ModelError
from inspection.inference.ocr_alphabet import Alphabet, narrowed
from inspection.inference.ocr_fielding import FieldedRead, read_by_position
from inspection.inference.session import SessionSettings, make_session
from inspection.recipe.tools import LATIN_ALPHABET

if TYPE_CHECKING:
    from rapidocr.ch_ppocr_rec import TextRecognizer

log = logging.getLogger(__name__)

# The detector is told never to resize (we already did), except rounding to its stride of 32.
_DET_NO_RESIZE = 8192
# Widest gap (in box heights) between two boxes still read as one line when neither is accepted.
_LINE_GAP = 2.0
# The recogniser's input height; its width follows each batch's widest crop. rapidocr pads every
# crop to at least 320 px wide, which for the usual lot or date field (~270 px at this height)
# is a fifth more work for nothing: the model's time grows with the width.
_REC_HEIGHT = 48
# Crops read in one run are padded to the run's widest; one at most this much wider joins it.
_PAD_TOLERANCE = 1.1


@dataclass(frozen=True, slots=True, kw_only=True)
class TextLine:
    """One line of text read: ``box`` is float32 (4, 2) corners (x, y) in image px, clockwise
    from top-left (``None`` when the line was recognised from a given crop)."""

    text: str
    confidence: float
    box: np.ndarray | None = None
    by_position: tuple[FieldedRead, ...] = ()
    """The line read again against each text it was expected to show, each character within
    its expected class (``ocr_fielding``): only the reads whose characters all passed the floor."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadResult:
    """What ``OcrEngine.read`` saw: the lines recognised (in the order they were read), how many
    boxes the detector found, whether ``accept`` ended the read early, and the time spent (ms)."""

    lines: tuple[TextLine, ...]
    boxes_found: int
    stopped_early: bool
    passes: int
    det_ms: float
    rec_ms: float
    accepted: TextLine | None = None


Accept = Callable[[TextLine], bool]
"""Called on each line as soon as it is read; True ends the read (the expected text was seen)."""

Priority = Callable[[np.ndarray, float], float]
"""Score of a detected box (float32 (4, 2) corners, full-image px; and the detector's box score):
higher is read first."""


class OcrEngine:
    """A rapidocr detector + recogniser pair for one worker thread (not thread-safe)."""

    def __init__(
        self,
        *,
        threads: int = 1,
        det_side: int = 640,
        fine_det_side: int | None = 960,
        rec_batch: int = 4,
        box_thresh: float = 0.5,
        alphabet: Alphabet = "latin",
    ) -> None:
        """``threads``: onnxruntime intra-op threads; ``det_side``: longest side (px) the
        detector sees; ``fine_det_side``: a second, finer detection pass when the first does not
        yield an accepted line (None: no second pass); ``rec_batch``: lines per recognition run;
        ``alphabet``: the characters a line may be read as (``ocr_alphabet``)."""
        if det_side < 64:
            raise ValueError(f"det_side must be at least 64 px, got {det_side}")
        if rec_batch < 1:
            raise ValueError(f"rec_batch must be at least 1, got {rec_batch}")
        self.threads = max(1, int(threads))
        self.det_side = int(det_side)
        self.fine_det_side = int(fine_det_side) if fine_det_side else None
        self.rec_batch = int(rec_batch)
        try:
            from rapidocr import RapidOCR
        except ImportError as exc:
            raise ModelError(f"the OCR package rapidocr is not installed ({exc})") from None
        params = {
            "Global.log_level": "warning",
            "Global.use_cls": False,
            "Global.text_score": 0.0,  # we judge confidence ourselves, per field
            "EngineConfig.onnxruntime.intra_op_num_threads": self.threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            "Det.limit_side_len": _DET_NO_RESIZE,
            "Det.limit_type": "max",
            "Det.box_thresh": box_thresh,
            "Rec.rec_batch_num": self.rec_batch,
            "Rec.rec_img_shape": [3, _REC_HEIGHT, _REC_HEIGHT],
        }
        try:
            self._engine = RapidOCR(params=params)
            # Load both models now (not on the first part) and let them plan their memory.
            # rapidocr makes its recogniser on first use only: this read makes it (a narrowed
            # alphabet then replaces its session, warmed by the read at the end).
            warm = np.full((48, 160, 3), 255, np.uint8)
            cv2.putText(warm, "LOT 1", (4, 36), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2)
            self._engine.recognize_txt([warm])
            self._engine(warm, use_det=True, use_cls=False, use_rec=False)
            # recognition is run here, not through recognize_txt, to keep the per-frame
            # probabilities that a read by position needs
            rec: TextRecognizer | None = getattr(self._engine, "text_rec", None)
            if rec is None:
                raise ModelError("the OCR recogniser did not load")
            self._rec: TextRecognizer = rec
            self._run_rec: Callable[[np.ndarray], np.ndarray] = rec.session
            if alphabet == "latin":
                self._narrow_to(LATIN_ALPHABET)
            self._charset: list[str] = list(rec.postprocess_op.character)
            self.recognize([warm], expect=["LOT 1"])
        except Exception as exc:  # rapidocr raises its own and onnxruntime's untyped errors
            raise ModelError(f"the OCR models could not be loaded: {exc}") from None

    def _narrow_to(self, keep: str) -> None:
        """Run the recogniser with its last layer cut to the characters in ``keep``."""
        from rapidocr.ch_ppocr_rec.utils import CTCLabelDecode

        full = self._rec.session.session  # rapidocr's onnxruntime session, pinned with rapidocr
        model = Path(full._model_path)
        # rapidocr's list has the blank first and a space last; the model's metadata does not
        characters = list(self._rec.postprocess_op.character)[1:-1]
        content, kept = narrowed(model, characters, keep)
        session = make_session(
            model, settings=SessionSettings(threads=self.threads), content=content
        )
        name = session.get_inputs()[0].name
        self._run_rec = lambda batch: session.run(None, {name: batch})[0]
        self._rec.postprocess_op = CTCLabelDecode(character=kept)
        self._rec.session = None  # the whole alphabet's session: its memory, never run again

    # ---- recognition only ---------------------------------------------------------------

    def recognize(
        self, crops: Sequence[np.ndarray], *, expect: Sequence[str] = ()
    ) -> list[TextLine]:
        """Read one text line from each crop (uint8 (H, W) grey or (H, W, 3) BGR), in batches of
        ``rec_batch``; each line is also read by position against each text in ``expect``."""
        images = [_bgr(c) for c in crops if c.size > 0 and min(c.shape[:2]) >= 2]
        if len(images) != len(crops):
            bad = [i for i, c in enumerate(crops) if c.size == 0 or min(c.shape[:2]) < 2]
            raise ValueError(f"crops {bad} are empty or under 2 px; nothing to read there")
        ratios = [img.shape[1] / img.shape[0] for img in images]
        lines: dict[int, TextLine] = {}
        for chunk in _like_widths(ratios, self.rec_batch):
            widest = max(max(ratios[i] for i in chunk), 1.0)
            batch = np.stack([self._rec.resize_norm_img(images[i], widest) for i in chunk])
            probs = self._run_rec(batch)  # resize_norm_img gives float32
            read, _ = self._rec.postprocess_op(
                probs, False, wh_ratio_list=[ratios[i] for i in chunk], max_wh_ratio=widest
            )
            for i, frames, (text, score) in zip(chunk, probs, read, strict=True):
                fielded = (
                    read_by_position(frames, self._charset, want, space=len(self._charset) - 1)
                    for want in expect
                )
                lines[i] = TextLine(
                    text=str(text),
                    confidence=float(score),
                    by_position=tuple(f for f in fielded if f is not None),
                )
        return [lines[i] for i in range(len(images))]

    # ---- detection + recognition --------------------------------------------------------

    def detect(self, image: np.ndarray, side: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Text boxes in ``image``: float32 (N, 4, 2) corners in image px and (N,) box scores.

        The detector sees the image shrunk to ``side`` px on its longest side (default det_side)."""
        bgr = _bgr(image)
        h, w = bgr.shape[:2]
        side = side or self.det_side
        scale = min(1.0, side / max(h, w))
        small = (
            bgr
            if scale >= 1.0
            else cv2.resize(
                bgr,
                (max(1, round(w * scale)), max(1, round(h * scale))),
                interpolation=cv2.INTER_AREA,
            )
        )
        res = self._engine(small, use_det=True, use_cls=False, use_rec=False)
        boxes = getattr(res, "boxes", None)
        if boxes is None or len(boxes) == 0:
            return np.zeros((0, 4, 2), np.float32), np.zeros((0,), np.float32)
        sx, sy = w / small.shape[1], h / small.shape[0]
        out = np.asarray(boxes, dtype=np.float32).reshape(-1, 4, 2) * np.array(
            [sx, sy], dtype=np.float32
        )
        scores = np.asarray(getattr(res, "scores", None) or [1.0] * len(out), dtype=np.float32)
        return out, scores

    def read(
        self,
        image: np.ndarray,
        *,
        accept: Accept | None = None,
        priority: Priority | None = None,
        expect: Sequence[str] = (),
    ) -> ReadResult:
        """Find and read the text in ``image`` (uint8 grey or BGR), best-scored boxes first.

        With ``accept``, reading stops at the first line it accepts; after a pass's own boxes,
        boxes side by side on one line are read joined (the detector splits a line at a wide
        word gap, as dot-printed codes have); when no line is accepted a second detection at
        ``fine_det_side`` reads the boxes the first pass did not have. Each line is also read by
        position against each text in ``expect`` (``TextLine.by_position``)."""
        bgr = _bgr(image)
        lines: list[TextLine] = []
        det_ms = rec_ms = 0.0
        found = 0
        sides = [self.det_side]
        fine = self.fine_det_side
        big = max(bgr.shape[:2]) > self.det_side
        if accept is not None and fine is not None and fine > self.det_side and big:
            sides.append(fine)
        seen: list[np.ndarray] = []
        joins: list[np.ndarray] = []
        passes = 0
        for side in sides:
            passes += 1
            t0 = time.perf_counter()
            boxes, scores = self.detect(bgr, side)
            det_ms += (time.perf_counter() - t0) * 1e3
            found = max(found, len(boxes))
            n_own = len(boxes)
            if accept is not None:
                # Words of one line the detector split (the wide gaps of dot-printed codes) are
                # read joined too, after the boxes themselves.
                joined = _join_line_boxes(boxes)
                boxes = np.concatenate([boxes, joined])
                scores = np.concatenate([scores, np.zeros(len(joined), np.float32)])
            order = _order(boxes, scores, priority)
            todo = [i for i in order if i < n_own and not _seen_before(boxes[i], seen)]
            seen.extend(boxes[i] for i in todo)
            # a joined box never hides a box the finer pass finds in its place
            todo += [i for i in order if i >= n_own and not _seen_before(boxes[i], seen + joins)]
            joins.extend(boxes[i] for i in todo if i >= n_own)
            for chunk in self._chunks(todo, early_exit=accept is not None):
                t1 = time.perf_counter()
                crops = [_crop_box(bgr, boxes[i]) for i in chunk]
                read = self.recognize(crops, expect=expect)
                rec_ms += (time.perf_counter() - t1) * 1e3
                for i, line in zip(chunk, read, strict=True):
                    placed = dataclasses.replace(line, box=boxes[i])
                    lines.append(placed)
                    if accept is not None and accept(placed):
                        return ReadResult(
                            lines=tuple(lines),
                            boxes_found=found,
                            stopped_early=True,
                            passes=passes,
                            det_ms=det_ms,
                            rec_ms=rec_ms,
                            accepted=placed,
                        )
        return ReadResult(
            lines=tuple(lines),
            boxes_found=found,
            stopped_early=False,
            passes=passes,
            det_ms=det_ms,
            rec_ms=rec_ms,
        )

    def _chunks(self, todo: list[int], *, early_exit: bool) -> list[list[int]]:
        """Boxes to recognise per run: the most promising alone, then doubling up to rec_batch
        (an early exit wastes little; a long read still batches)."""
        if not early_exit:
            return [todo[i : i + self.rec_batch] for i in range(0, len(todo), self.rec_batch)]
        out: list[list[int]] = []
        size, start = 1, 0
        while start < len(todo):
            out.append(todo[start : start + size])
            start += size
            size = min(size * 2, self.rec_batch)
        return out


def _like_widths(ratios: Sequence[float], most: int) -> list[list[int]]:
    """Crops (by their width/height ``ratios``) in runs of at most ``most``, narrowest first; a
    crop shares a run only with crops it is at most ``_PAD_TOLERANCE`` times as wide as: every
    crop of a run is padded to its widest, and the model's time grows with the width, so a short
    date read beside a long product name would cost as much as the name."""
    runs: list[list[int]] = []
    for i in sorted(range(len(ratios)), key=lambda k: ratios[k]):
        run = runs[-1] if runs else None
        if (
            run is not None
            and len(run) < most
            and max(ratios[i], 1.0) <= _PAD_TOLERANCE * max(ratios[run[0]], 1.0)
        ):
            run.append(i)
        else:
            runs.append([i])
    return runs


def _bgr(image: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3), as the models want three channels."""
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 1:
        return cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(image)


def _order(boxes: np.ndarray, scores: np.ndarray, priority: Priority | None) -> list[int]:
    if priority is None:
        return list(range(len(boxes)))
    keys = [priority(boxes[i], float(scores[i])) for i in range(len(boxes))]
    return sorted(range(len(boxes)), key=lambda i: -keys[i])


def _seen_before(box: np.ndarray, seen: list[np.ndarray]) -> bool:
    """True when a box of an earlier (coarser) pass covers nearly the same place."""
    c = box.mean(axis=0)
    h = max(float(np.linalg.norm(box[0] - box[3])), 1.0)
    for other in seen:
        oh = max(float(np.linalg.norm(other[0] - other[3])), 1.0)
        if np.linalg.norm(other.mean(axis=0) - c) < 0.5 * min(h, oh) and 0.7 < h / oh < 1.4:
            ow = float(np.linalg.norm(other[0] - other[1]))
            bw = float(np.linalg.norm(box[0] - box[1]))
            if 0.8 < bw / max(ow, 1.0) < 1.25:
                return True
    return False


def _join_line_boxes(boxes: np.ndarray) -> np.ndarray:
    """float32 (M, 4, 2): boxes that sit side by side on one line (see ``_next_on_line``)
    joined, from the left one's left edge to the right one's right edge: each neighbouring pair,
    and each whole run of three or more."""
    if len(boxes) < 2:
        return np.zeros((0, 4, 2), np.float32)
    order = sorted(range(len(boxes)), key=lambda i: float(boxes[i][:, 0].min()))
    following: dict[int, int] = {}
    for k, left in enumerate(order):
        for right in order[k + 1 :]:
            if _next_on_line(boxes[left], boxes[right]):
                following[left] = right
                break
    out: list[np.ndarray] = []
    for left, right in following.items():
        out.append(_span(boxes[left], boxes[right]))
    starts = set(following) - set(following.values())
    for first in sorted(starts):
        last, n = first, 1
        while last in following:
            last, n = following[last], n + 1
        if n >= 3:
            out.append(_span(boxes[first], boxes[last]))
    return np.array(out, np.float32).reshape(-1, 4, 2)


def _span(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return np.array([left[0], right[1], right[2], left[3]], np.float32)


def _next_on_line(left: np.ndarray, right: np.ndarray) -> bool:
    _, lh = box_size(left)
    _, rh = box_size(right)
    if not 1 / 1.5 < lh / max(rh, 1.0) < 1.5:
        return False
    level = abs(float(left[:, 1].mean() - right[:, 1].mean())) < 0.5 * min(lh, rh)
    gap = float(right[:, 0].min() - left[:, 0].max())
    return level and -0.25 * min(lh, rh) < gap < _LINE_GAP * max(lh, rh)


def box_size(box: np.ndarray) -> tuple[float, float]:
    """(width, height) in px of a (4, 2) text box, clockwise from top-left."""
    w = max(float(np.linalg.norm(box[0] - box[1])), float(np.linalg.norm(box[3] - box[2])))
    h = max(float(np.linalg.norm(box[0] - box[3])), float(np.linalg.norm(box[1] - box[2])))
    return w, h


def _crop_box(image: np.ndarray, box: np.ndarray) -> np.ndarray:
    """The text line inside ``box`` straightened to a horizontal strip (a little margin kept)."""
    w, h = box_size(box)
    w, h = max(2, round(w)), max(2, round(h))
    dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(box.astype(np.float32), dst)
    strip = cv2.warpPerspective(
        image, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    if h >= 1.5 * w:  # a vertical line of text: turn it to read along
        strip = np.ascontiguousarray(np.rot90(strip))
    return strip
