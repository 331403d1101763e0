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
* add_on_missed: the EAN/UPC code was read right but its EAN-2/EAN-5 add-on was not (the label
  carries one; only with ``--add-on read|require``): a no-read of the add-on, not a wrong number;
* false_positive: something was decoded in a ``falsepositives*`` folder (nothing decoded there
  counts as correct);
* unlabelled: no expected content and not a false-positive folder.

``median_ms`` is the median wall time of the read alone (image loading excluded), over every
readable image of the entry. Files that cannot be loaded go to ``unreadable_files``; every
misread and false positive is listed under ``misreads`` (file, expected text, what was read).

With ``--plain`` the same images are also read by one plain zxing-cpp call in the same run,
reported under ``"plain"`` with exactly the same fields, so ladder and plain compare field by
field (read, misread, not read, time) in one command.
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

from inspection.image_size import file_too_large
from inspection.tools.codes_reader import ADD_ON_MODES, CodeReader, parse_formats

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".pbm", ".pgm", ".webp"}
)
OUTCOMES = ("correct", "misread", "not_read", "false_positive", "unlabelled", "add_on_missed")


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
    add_on: str = "ignore",
    time_budget_ms: float = 500.0,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Read every image under ``data_dir`` and score it against its label (see module doc).

    ``formats`` are zxing-cpp format names (None = all). The Lineside decode ladder gets
    ``time_budget_ms`` per image. With ``plain``, one plain ``zxingcpp.read_barcodes`` call
    reads every image too, in the same run, and its report (the same fields) is under
    ``"plain"``, so the two compare field by field. ``add_on`` ("ignore", "read", "require")
    applies to both. ``progress(done, total)`` is called after each image.
    Raises ValueError for a missing folder, an unknown format name or add-on mode.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise ValueError(f"code samples folder {data_dir} does not exist or is not a folder")
    if add_on not in ADD_ON_MODES:
        raise ValueError(f"unknown add-on mode {add_on!r}; one of {', '.join(ADD_ON_MODES)}")
    ladder = CodeReader(formats, add_on=add_on)
    zx_formats = parse_formats(formats)

    def read_ladder(image: np.ndarray) -> list[tuple[str, bytes]]:
        outcome = ladder.read(image, min_count=1, budget_ms=time_budget_ms)
        return [(c.text, c.payload) for c in outcome.codes]

    def read_plain(image: np.ndarray) -> list[tuple[str, bytes]]:
        barcodes = zxingcpp.read_barcodes(
            image,
            formats=zx_formats,
            text_mode=zxingcpp.TextMode.Plain,
            ean_add_on_symbol=ADD_ON_MODES[add_on],
        )
        return [(bc.text, bytes(bc.bytes)) for bc in barcodes]

    readers = {"lineside": read_ladder}
    if plain:
        readers["plain"] = read_plain
    tallies = {name: _Tally() for name in readers}
    cases = _cases(data_dir)
    unreadable: list[str] = []
    for i, case in enumerate(cases):
        image = _load(case.path)
        if image is None:
            unreadable.append(case.path.relative_to(data_dir).as_posix())
        else:
            for name, read in readers.items():
                t0 = time.perf_counter_ns()
                got = read(image)
                ms = (time.perf_counter_ns() - t0) / 1e6
                result = _score(case, got)
                tallies[name].add(case, result, got, ms, data_dir)
                log.debug("%s %s: %s %s (%.1f ms)", name, case.path.name, result, got, ms)
        if progress is not None:
            progress(i + 1, len(cases))
    common = {"formats": list(formats) if formats else [], "add_on": add_on}
    report = tallies["lineside"].report(reader="lineside", unreadable=unreadable, **common)
    if plain:
        report["plain"] = tallies["plain"].report(reader="plain", unreadable=unreadable, **common)
    return report


class _Tally:
    """One reader's counts per folder and in total, its read times and its misreads."""

    def __init__(self) -> None:
        self.totals = _new_entry()
        self.folders: dict[str, dict[str, Any]] = {}
        self.times: dict[str, list[float]] = {}
        self.misreads: list[dict[str, Any]] = []

    def add(
        self, case: _Case, result: str, got: list[tuple[str, bytes]], ms: float, root: Path
    ) -> None:
        entry = self.folders.setdefault(case.folder, _new_entry())
        for e in (entry, self.totals):
            e["images"] += 1
            e[result] += 1
        self.times.setdefault(case.folder, []).append(ms)
        self.times.setdefault("", []).append(ms)
        if result in ("misread", "false_positive"):
            self.misreads.append(
                {
                    "file": case.path.relative_to(root).as_posix(),
                    "expected": case.expected_text,
                    "read": [text for text, _ in got],
                }
            )

    def report(self, **fields: Any) -> dict[str, Any]:
        for name, entry in self.folders.items():
            entry["median_ms"] = _median(self.times.get(name, []))
        self.totals["median_ms"] = _median(self.times.get("", []))
        return {
            "total": self.totals,
            "folders": dict(sorted(self.folders.items())),
            "reader": fields["reader"],
            "formats": fields["formats"],
            "add_on": fields["add_on"],
            "unreadable_files": fields["unreadable"],
            "misreads": self.misreads,
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
    if any(_add_on_missed(case.expected_text, text) for text, _ in got):
        return "add_on_missed"
    return "misread"


def _add_on_missed(expected: str | None, read: str) -> bool:
    # an EAN-8/UPC-E/UPC-A/EAN-13 read whose label is the same digits plus a 2- or 5-digit add-on
    return (
        expected is not None
        and read.isdigit()
        and len(read) in (8, 12, 13)
        and expected.startswith(read)
        and len(expected) - len(read) in (2, 5)
        and expected[len(read) :].isdigit()
    )


def _load(path: Path) -> np.ndarray | None:
    """Grey uint8 image, or None when the file cannot be decoded (corrupt, truncated, unknown)."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        log.warning("cannot read %s: %s", path, exc)
        return None
    if data.size == 0:
        return None
    too_big = file_too_large(path)  # from the header: an absurd image is never decoded
    if too_big is not None:
        log.warning("%s: %s; not read", path, too_big)
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
