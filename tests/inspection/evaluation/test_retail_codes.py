"""The hard retail code generator: seeded, labelled with what a correct read returns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zxingcpp

from inspection.evaluation.retail_codes import FORMATS, main, retail_code, write_retail_codes


def plain_read(image: np.ndarray) -> list[str]:
    formats = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.EANUPC)
    return [
        b.text
        for b in zxingcpp.read_barcodes(image, formats=formats, text_mode=zxingcpp.TextMode.Plain)
    ]


def test_same_seed_same_photo_other_seed_other_photo() -> None:
    a, b = retail_code(7), retail_code(7)
    assert np.array_equal(a.image, b.image) and a.expected == b.expected
    assert not np.array_equal(a.image, retail_code(8).image)
    assert a.image.dtype == np.uint8 and a.image.ndim == 2


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_clean_print_reads_as_its_label(fmt: str) -> None:
    code = retail_code(11, fmt, severity=0.0)
    assert code.format == fmt
    assert plain_read(code.image) == [code.expected]
    digits = {"EAN13": 13, "UPCA": 13, "UPCE": 13, "EAN8": 8}[fmt]
    assert len(code.expected) == digits and code.expected.isdigit()


def test_labels_never_include_a_printed_add_on() -> None:
    with_add_on = [c for c in (retail_code(s, "EAN13") for s in range(8)) if c.add_on]
    assert with_add_on
    for code in with_add_on:
        assert len(code.expected) == 13 and len(code.add_on) in (2, 5)


def test_the_photos_are_hard_for_a_plain_call() -> None:
    codes = [retail_code(s) for s in range(24)]
    read = sum(plain_read(c.image) == [c.expected] for c in codes)
    assert 0 < read < len(codes)


def test_written_in_the_zxing_sample_layout(tmp_path: Path) -> None:
    assert main([str(tmp_path / "set"), "--count", "8", "--seed", "3"]) == 0
    pngs = sorted((tmp_path / "set").rglob("*.png"))
    assert sorted(p.parent.name for p in pngs) == sorted(f"{f.lower()}-1" for f in FORMATS * 2)
    for p in pngs:
        assert p.with_suffix(".txt").read_text(encoding="utf-8").isdigit()
    again = sorted(write_retail_codes(tmp_path / "again", 8, seed=3))
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in pngs]


def test_bad_requests_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown retail format 'QRCode'"):
        retail_code(1, "QRCode")
    with pytest.raises(ValueError, match="count must be at least 1"):
        write_retail_codes(Path("unused"), 0)
