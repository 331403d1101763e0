"""`lineside eval ocr`: is the expected text found where it is printed, and how fast.

The folder holds images and ``gt.tsv``: a header ``image<TAB>text``, then one row per image with
its path relative to the folder and the text that must be read there (more columns are ignored).
Every image is read whole (text detection, then recognition), as a verification would: boxes
shaped like the expected text are read first and reading stops once it has been seen; when it is
not seen, a finer detection pass reads what the first one missed.

Per image: ``found`` when the expected text occurs in one line read (case and spaces ignored),
and the character error rate of the line span closest to it (edit distance / its length). Only
what was actually read counts. ``median_ms`` is the read alone (image loading excluded), with
the print preparation of the field setting ``print:`` when one is asked for, as the label tool
reads such a field when the recipe gives no value to compare with (a regex, date or any rule):
the text settled for the print (``read_print_text``) and, when the expected text was not seen, a
read of each further preparation of the print in turn (``prepare_print_again``; solid print has
none, so its reads are unchanged). The expected text only ends the read early; it never changes the text,
except with ``by_position``: a line read by position as the expected text (a label field's
``read_by_position``) counts as that read.

With ``misprints``, each image is read once more against its expected text misprinted
(``misprints.misprint``: one character changed, a look-alike of the other class where it has
one); ``misprints_passed`` counts the images where that text was "found" all the same: a
verification passing a wrong code. It should stay at what the plain read passes.

The same images can be read once per print setting (``prints``), so a preparation is compared
with the plain read in one run; ``evaluate_generated_ocr`` does the same on dot-printed codes
rendered on the fly (``inspection.evaluation.dot_matrix``), where every line's text is known.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import math
import statistics
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from inspection.evaluation.dot_matrix import generate_dot_print
from inspection.evaluation.misprints import misprint
from inspection.image_size import file_too_large
from inspection.inference.ocr import OcrEngine, ReadResult, TextLine, box_size
from inspection.inference.ocr_alphabet import Alphabet
from inspection.recipe.tools import PRINT_KINDS
from inspection.tools.label_print import prepare_print, prepare_print_again, read_print_text
from inspection.tools.label_rules import best_span

log = logging.getLogger(__name__)

GENERATED_KINDS = ("dot_matrix",)
"""Sets ``evaluate_generated_ocr`` can render."""

# Width/height of one printed character with its spacing, for guessing a text box's shape.
_CHAR_ASPECT = 0.58


@dataclass(frozen=True, slots=True)
class _Case:
    row: int
    path: Path
    name: str
    text: str


def evaluate_ocr(
    data_dir: Path,
    *,
    prints: Sequence[str] = ("solid",),
    by_position: bool = False,
    misprints: bool = False,
    alphabet: Alphabet = "latin",
    progress: Callable[[int, int], None] | None = None,
    threads: int = 2,
    det_side: int = 384,
    fine_det_side: int | None = 800,
) -> dict[str, Any]:
    """Read every image listed in ``data_dir/gt.tsv`` and score it (see module doc); with
    ``by_position``, a line read by position as the expected text counts as read (a label
    field's ``read_by_position``); ``alphabet``: what the recogniser may read (a label tool's
    ``alphabet``).

    Returns images, found, found_rate, lines_exact_pct, chars_pct, cer (mean), median_ms and a
    per-image list for the first of ``prints``; ``prints`` with the same (per-image list too) for each print
    setting; missing_files and bad_rows. ``progress(done, total)`` is called after each image.
    Raises ValueError when the folder or its ``gt.tsv`` is missing or has no header, or a print
    setting is unknown."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise ValueError(f"OCR samples folder {data_dir} does not exist or is not a folder")
    _check_prints(prints)
    cases, bad_rows = _cases(data_dir / "gt.tsv")
    missing: list[str] = []

    def images() -> Iterator[tuple[str, str, np.ndarray | None]]:
        for case in cases:
            too_big = file_too_large(case.path) if case.path.is_file() else None
            if too_big is not None:  # refused from the header: an absurd image is never decoded
                log.warning("gt.tsv row %d: image %s: %s", case.row, case.name, too_big)
            image = (
                cv2.imread(str(case.path), cv2.IMREAD_COLOR)
                if case.path.is_file() and too_big is None
                else None
            )
            if image is None:
                missing.append(case.name)
                log.warning("gt.tsv row %d: image %s is missing or unreadable", case.row, case.name)
            yield case.name, case.text, image

    engine = OcrEngine(
        threads=threads, det_side=det_side, fine_det_side=fine_det_side, alphabet=alphabet
    )
    out = _evaluate(engine, images(), len(cases), prints, by_position, misprints, progress)
    out.update(
        by_position=by_position,
        alphabet=alphabet,
        threads=threads,
        det_side=det_side,
        fine_det_side=fine_det_side,
        missing_files=missing,
        bad_rows=bad_rows,
    )
    return out


def evaluate_generated_ocr(
    kind: str,
    count: int,
    *,
    seed: int = 1,
    prints: Sequence[str] = PRINT_KINDS,
    by_position: bool = False,
    misprints: bool = False,
    alphabet: Alphabet = "latin",
    progress: Callable[[int, int], None] | None = None,
    threads: int = 2,
    det_side: int = 384,
    fine_det_side: int | None = 800,
) -> dict[str, Any]:
    """As ``evaluate_ocr`` on ``count`` generated images of ``kind`` (``dot_matrix``: dot-matrix
    and inkjet codes), read once per print setting in ``prints``. Raises ValueError on an
    unknown kind or print setting, or a count under 1."""
    if kind not in GENERATED_KINDS:
        raise ValueError(f"no generator for {kind!r}; known: {', '.join(GENERATED_KINDS)}")
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    _check_prints(prints)
    samples = (
        (f"{i:04d} {s.printer} {s.surface} pitch {s.pitch_px:.1f}", s.text, s.image)
        for i, s in enumerate(generate_dot_print(count, seed))
    )
    engine = OcrEngine(
        threads=threads, det_side=det_side, fine_det_side=fine_det_side, alphabet=alphabet
    )
    out = _evaluate(engine, samples, count, prints, by_position, misprints, progress)
    out.update(
        generated=kind,
        seed=seed,
        by_position=by_position,
        alphabet=alphabet,
        threads=threads,
        det_side=det_side,
    )
    return out


def _check_prints(prints: Sequence[str]) -> None:
    if not prints:
        raise ValueError("at least one print setting is needed (solid, dot_matrix)")
    for kind in prints:
        if kind not in PRINT_KINDS:
            raise ValueError(f"unknown print setting {kind!r}; known: {', '.join(PRINT_KINDS)}")


def _evaluate(
    engine: OcrEngine,
    images: Iterable[tuple[str, str, np.ndarray | None]],
    total: int,
    prints: Sequence[str],
    by_position: bool,
    misprints: bool,
    progress: Callable[[int, int], None] | None,
) -> dict[str, Any]:
    """Read each (name, expected text, BGR image; None: unreadable, counted for progress only)
    once per print setting (and against its text misprinted) and sum up."""
    rows: dict[str, list[dict[str, Any]]] = {kind: [] for kind in prints}
    for done, (name, text, image) in enumerate(images, start=1):
        for kind in prints:
            if image is None:
                break
            t0 = time.perf_counter()
            result = _read(engine, image, kind, text, by_position)
            ms = (time.perf_counter() - t0) * 1e3
            found, cer, best = _score(text, result.lines)
            rows[kind].append(
                {
                    "image": name,
                    "expected": text,
                    "found": found,
                    "cer": round(cer, 4),
                    "best_line": best,
                    "lines_read": len(result.lines),
                    "boxes": result.boxes_found,
                    "passes": result.passes,
                    "ms": round(ms, 1),
                    "det_ms": round(result.det_ms, 1),
                    "rec_ms": round(result.rec_ms, 1),
                }
            )
            wrong = misprint(text, name) if misprints else text
            if wrong != text:
                fooled = _read(engine, image, kind, wrong, by_position)
                rows[kind][-1].update(
                    misprint=wrong, misprint_passed=_score(wrong, fooled.lines)[0]
                )
        if progress is not None:
            progress(done, total)
    by_print = {kind: {**_summary(per), "per_image": per} for kind, per in rows.items()}
    return {**by_print[prints[0]], "print": prints[0], "prints": by_print}


def _read(
    engine: OcrEngine, image: np.ndarray, kind: str, text: str, by_position: bool = False
) -> ReadResult:
    """Read ``image`` as the label tool reads a field printed as ``kind``: prepared, the text
    settled for the print; while ``text`` is not seen, again from each further preparation of
    the print (if it has any). With ``by_position``, a line read by position as ``text`` is
    taken as that read. The lines of all reads, counts and times summed."""
    accept, priority = _accept(text), _priority(text)
    expect = (text,) if by_position else ()

    def seen(line: TextLine) -> bool:
        return accept(_settled_line(line, kind, text))

    def read(prepared: np.ndarray) -> ReadResult:
        out = engine.read(prepared, accept=seen, priority=priority, expect=expect)
        lines = tuple(_settled_line(ln, kind, text) for ln in out.lines)
        return dataclasses.replace(out, lines=lines)

    result = read(prepare_print(image, kind))
    if result.stopped_early:
        return result
    for again in prepare_print_again(image, kind):
        more = read(again)
        result = dataclasses.replace(
            more,
            lines=result.lines + more.lines,
            boxes_found=max(result.boxes_found, more.boxes_found),
            passes=result.passes + more.passes,
            det_ms=result.det_ms + more.det_ms,
            rec_ms=result.rec_ms + more.rec_ms,
        )
        if result.stopped_early:
            break
    return result


def _settled_line(line: TextLine, kind: str, expected: str) -> TextLine:
    """The line as the label tool judges it: its read by position when that shows ``expected``,
    else its text settled for the print."""
    want = _squash(expected)
    for fielded in line.by_position:
        if _squash(fielded.text) == want:
            return dataclasses.replace(line, text=fielded.text, confidence=fielded.confidence)
    return dataclasses.replace(line, text=read_print_text(line.text, kind))


def _summary(per_image: list[dict[str, Any]]) -> dict[str, Any]:
    scored = len(per_image)
    n_found = sum(1 for r in per_image if r["found"])
    chars = sum(len(_squash(r["expected"])) for r in per_image)
    # cer is rounded per image; the character share is summed from the exact edits
    edits = sum(r["cer"] * len(_squash(r["expected"])) for r in per_image)
    times = [r["ms"] for r in per_image]
    tried = [r for r in per_image if "misprint" in r]
    checked = (
        {
            "misprints_read": len(tried),
            "misprints_passed": sum(1 for r in tried if r["misprint_passed"]),
        }
        if tried
        else {}
    )
    return {
        "images": scored,
        "found": n_found,
        "found_rate": n_found / scored if scored else 0.0,
        "lines_exact_pct": round(100.0 * n_found / scored, 2) if scored else math.nan,
        "chars_pct": round(100.0 * (1.0 - edits / chars), 2) if chars else math.nan,
        "cer": statistics.fmean(r["cer"] for r in per_image) if per_image else math.nan,
        "median_ms": statistics.median(times) if times else math.nan,
        **checked,
    }


def _cases(gt: Path) -> tuple[list[_Case], list[str]]:
    if not gt.is_file():
        raise ValueError(f"{gt}: ground-truth file not found (expected image<TAB>text rows)")
    cases: list[_Case] = []
    bad: list[str] = []
    with gt.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows or [c.strip().lower() for c in rows[0][:2]] != ["image", "text"]:
        raise ValueError(f"{gt}: first line must be the header 'image<TAB>text'")
    root = gt.parent
    for n, row in enumerate(rows[1:], start=2):
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            bad.append(f"line {n}: needs an image path and a text, got {row!r}")
            continue
        name, text = row[0].strip(), row[1].strip()
        path = (root / name).resolve()
        if not path.is_relative_to(root.resolve()):
            bad.append(f"line {n}: image path {name!r} leads outside {root}")
            continue
        cases.append(_Case(row=n, path=path, name=name, text=text))
    for b in bad:
        log.warning("%s: %s", gt, b)
    return cases, bad


def _squash(text: str) -> str:
    return "".join(text.upper().split())


def _accept(expected: str) -> Callable[[TextLine], bool]:
    want = _squash(expected)
    return lambda line: want in _squash(line.text)


def _priority(expected: str) -> Callable[[np.ndarray, float], float]:
    """Boxes shaped like the expected text come first; among those, the larger print."""
    aspect = max(_CHAR_ASPECT * len(expected), 0.5)

    def score(box: np.ndarray, box_score: float) -> float:
        w, h = box_size(box)
        shape = abs(math.log(max(w, 1.0) / max(h, 1.0) / aspect))
        return -shape + 0.25 * math.log(max(h, 1.0)) + 0.2 * box_score

    return score


def _score(expected: str, lines: tuple[TextLine, ...]) -> tuple[bool, float, str]:
    """(found, CER of the closest span, the line it is in) against the lines read."""
    want = _squash(expected)
    best_cer, best_line = 1.0, ""
    for line in lines:
        text = _squash(line.text)
        if want in text:
            return True, 0.0, line.text
        _, _, edits = best_span(want, text)
        cer = min(1.0, edits / len(want))
        if cer < best_cer:
            best_cer, best_line = cer, line.text
    return False, best_cer, best_line
