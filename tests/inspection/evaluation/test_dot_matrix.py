"""The dot-printed code generator: its font, its ground truth (text and dots), seeding, and the
folder it writes for ``lineside eval ocr --data``."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from inspection.evaluation.dot_font import CHARACTERS, GLYPH_COLS, GLYPH_ROWS, glyph
from inspection.evaluation.dot_matrix import (
    generate_dot_print,
    render_dot_print,
    write_dot_print_set,
)

CODE = re.compile(
    r"LOT [A-Z]\d{4}|EXP \d{4}-\d\d|BB \d\d/\d\d \d\d:\d\d|L\d{4}[A-Z]|\d\d [A-Z]{3} \d\d"
    r"|EXP \d\d\.\d\d\.\d{4}|BEST BEFORE \d\d/\d{4}|[A-Z]\d\d \d\d:\d\d"
)


def test_every_glyph_is_7_by_5_and_unknown_characters_are_refused() -> None:
    for ch in CHARACTERS:
        g = glyph(ch)
        assert g.shape == (GLYPH_ROWS, GLYPH_COLS) and g.dtype == bool
        assert g.any() == (ch != " ")
    assert (glyph("0") != glyph("0", slashed_zero=False)).any()
    assert (glyph("0", slashed_zero=False) == glyph("O")).all()
    with pytest.raises(ValueError, match="no character 'a'"):
        glyph("a")


def test_texts_are_lot_and_expiry_codes_and_the_seed_repeats_the_set() -> None:
    first = list(generate_dot_print(40, seed=5))
    again = list(generate_dot_print(40, seed=5))
    other = list(generate_dot_print(40, seed=6))
    for s in first:
        assert CODE.fullmatch(s.text), s.text
        assert s.image.dtype == np.uint8 and s.image.ndim == 3 and s.image.shape[2] == 3
        assert 3.0 * 0.8 <= s.pitch_px <= 9.0 * 1.02
        assert s.printer in {"dot_matrix", "cij"} and s.surface in {"paper", "carton", "can"}
    assert [s.text for s in first] == [s.text for s in again]
    assert all(np.array_equal(a.image, b.image) for a, b in zip(first, again, strict=True))
    assert [s.text for s in first] != [s.text for s in other]
    assert {s.surface for s in first} == {"paper", "carton", "can"}
    assert {s.printer for s in first} == {"dot_matrix", "cij"}
    with pytest.raises(ValueError, match="count must be at least 1"):
        next(generate_dot_print(0))


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_dots_drawn_are_the_texts_glyphs_and_show_as_ink(seed: int) -> None:
    text = "LOT A2391"
    s = render_dot_print(np.random.default_rng(seed), text=text, row_pitch=6.0)
    assert s.text == text and s.row_pitch_px == 6.0
    glyph_dots = sum(int(glyph(c).sum()) for c in text)
    # a few dots go missing, as on a worn print head; never more than printed
    assert 0.85 * glyph_dots <= len(s.dots) <= glyph_dots
    h, w = s.image.shape[:2]
    assert (s.dots >= 0).all() and (s.dots[:, 0] < w).all() and (s.dots[:, 1] < h).all()
    gray = cv2.cvtColor(s.image, cv2.COLOR_BGR2GRAY).astype(np.float64)
    xs, ys = np.round(s.dots).astype(int).T
    at_dots = float(np.median(gray[ys, xs]))
    # half a pitch off every dot, away from the others: the surface
    between = s.dots + np.array([0.0, 0.5 * s.row_pitch_px])
    bx, by = np.round(between).astype(int).T
    surface = float(np.median(cv2.medianBlur(gray.astype(np.uint8), 31)))
    assert at_dots < surface - 10, (at_dots, surface)
    assert float(np.median(gray[ys, xs])) < float(np.median(gray[by.clip(0, h - 1), bx]))


def test_the_set_written_is_the_one_generated(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    gt = write_dot_print_set(tmp_path, 5, seed=3, progress=lambda d, t: calls.append((d, t)))
    with gt.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    assert rows[0][:2] == ["image", "text"]
    samples = list(generate_dot_print(5, seed=3))
    assert [r[1] for r in rows[1:]] == [s.text for s in samples]
    for row, s in zip(rows[1:], samples, strict=True):
        assert (tmp_path / row[0]).read_bytes() == s.jpeg
        assert float(row[2]) == pytest.approx(s.pitch_px, abs=0.01)
    assert calls[-1] == (5, 5)
