"""`lineside eval codes`: how well the code reader does on a labelled folder of images.

The layout is zxing-cpp's own sample set: every image below ``data_dir`` (recursive) is one case.
An image with a same-stem ``.txt`` must yield exactly that text, as zxing-cpp's Plain text mode
gives it (GS1 without parentheses); with a same-stem ``.bin`` it must yield exactly those bytes.
Images in a folder whose name starts with ``falsepositives`` must yield nothing. Other images are
counted as ``unlabelled`` and not scored.

Per image, exactly one of:

* correct: some decoded code equals the expected content;
* misread: something was decoded, but none of it equals the expected content;
* not_read: nothing was decoded (labelled image);
* false_positive: something was decoded in a ``falsepositives*`` folder (nothing decoded there
  counts as correct);
* unlabelled: no expected content and not a false-positive folder.

``median_ms`` is the median wall time of the read alone (image loading excluded), over every
readable image of the entry. Files that cannot be loaded go to ``unreadable_files``.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import zxingcpp

from inspection.tools.codes_reader import CodeReader, parse_formats

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".pbm", ".pgm", ".webp"}
)
OUTCOMES = ("correct", "misread", "not_read", "false_positive", "unlabelled")


@dataclass(frozen=True, slots=True)
class _Case:
    path: Path
    folder: str
    expected_text: str | None
    expected_bytes: bytes | None
    must_be_empty: bool


def evaluate_codes(
    data_dir: Path,
    formats: Sequence[str] | None = None,
    *,
    plain: bool = False,
    time_budget_ms: float = 500.0,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Read every image under ``data_dir`` and score it against its label (see module doc).

    ``formats`` are zxing-cpp format names (None = all). ``plain`` measures one plain
    ``zxingcpp.read_barcodes`` call instead of the Lineside decode ladder, whose retries get
    ``time_budget_ms`` per image. ``progress(done, total)`` is called after each image.
    Raises ValueError for a missing folder or an unknown format name.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise ValueError(f"code samples folder {data_dir} does not exist or is not a folder")
    zx_formats = parse_formats(formats)
    reader = None if plain else CodeReader(formats)
    cases = _cases(data_dir)
    totals = _new_entry()
    folders: dict[str, dict[str, Any]] = {}
    times: dict[str, list[float]] = {}
    unreadable: list[str] = []
    for i, case in enumerate(cases):
        image = _load(case.path)
        if image is None:
            unreadable.append(case.path.relative_to(data_dir).as_posix())
        else:
            t0 = time.perf_counter_ns()
            if reader is None:
                got = [
                    (bc.text, bytes(bc.bytes))
                    for bc in zxingcpp.read_barcodes(
                        image, formats=zx_formats, text_mode=zxingcpp.TextMode.Plain
                    )
                ]
            else:
                outcome = reader.read(image, min_count=1, budget_ms=time_budget_ms)
                got = [(c.text, c.payload) for c in outcome.codes]
            ms = (time.perf_counter_ns() - t0) / 1e6
            result = _score(case, got)
            entry = folders.setdefault(case.folder, _new_entry())
            for e in (entry, totals):
                e["images"] += 1
                e[result] += 1
            times.setdefault(case.folder, []).append(ms)
            times.setdefault("", []).append(ms)
            log.debug("%s: %s %s (%.1f ms)", case.path.name, result, got, ms)
        if progress is not None:
            progress(i + 1, len(cases))
    for name, entry in folders.items():
        entry["median_ms"] = _median(times.get(name, []))
    totals["median_ms"] = _median(times.get("", []))
    return {
        "total": totals,
        "folders": dict(sorted(folders.items())),
        "formats": list(formats) if formats else [],
        "reader": "plain" if plain else "lineside",
        "unreadable_files": unreadable,
    }


def _new_entry() -> dict[str, Any]:
    entry: dict[str, Any] = {"images": 0}
    entry.update(dict.fromkeys(OUTCOMES, 0))
    entry["median_ms"] = 0.0
    return entry


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 2) if values else 0.0


def _cases(data_dir: Path) -> list[_Case]:
    cases = []
    for path in sorted(data_dir.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        rel_parent = path.parent.relative_to(data_dir)
        folder = rel_parent.as_posix() if rel_parent.parts else "."
        # data_dir may itself be the false-positive folder (--data .../falsepositives-1)
        must_be_empty = any(
            p.lower().startswith("falsepositives") for p in (data_dir.name, *rel_parent.parts)
        )
        txt, binf = path.with_suffix(".txt"), path.with_suffix(".bin")
        cases.append(
            _Case(
                path=path,
                folder=folder,
                expected_text=_read_text(txt) if txt.is_file() else None,
                expected_bytes=binf.read_bytes() if binf.is_file() else None,
                must_be_empty=must_be_empty,
            )
        )
    return cases


def _read_text(path: Path) -> str:
    # newline="" keeps the file's bytes as written: a label with "\r\n" must match exactly.
    with path.open(encoding="utf-8", errors="surrogateescape", newline="") as f:
        return f.read()


def _score(case: _Case, got: list[tuple[str, bytes]]) -> str:
    if case.must_be_empty:
        return "false_positive" if got else "correct"
    if case.expected_text is None and case.expected_bytes is None:
        return "unlabelled"
    if not got:
        return "not_read"
    for text, payload in got:
        if case.expected_bytes is not None and payload == case.expected_bytes:
            return "correct"
        if case.expected_text is not None and text == case.expected_text:
            return "correct"
    return "misread"


def _load(path: Path) -> np.ndarray | None:
    """Grey uint8 image, or None when the file cannot be decoded (corrupt, truncated, unknown)."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        log.warning("cannot read %s: %s", path, exc)
        return None
    if data.size == 0:
        return None
    try:
        image = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
    except cv2.error as exc:
        log.warning("cannot decode image %s: %s", path, exc)
        return None
    if image is None or image.size == 0:
        log.warning("cannot decode image %s", path)
        return None
    return np.ascontiguousarray(image)
