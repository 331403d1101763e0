"""evaluate_ocr on a tiny folder of rendered dates: found, CER, missing files and bad rows."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from inspection.evaluation.ocr import evaluate_ocr


def photo(lines: list[str]) -> np.ndarray:
    """uint8 (H, W, 3): a busy 'label' with several lines, the date in large print."""
    image = np.full((320, 560, 3), 235, np.uint8)
    y = 50
    for text in lines:
        big = text[:2].isdigit()
        scale = 1.6 if big else 0.8
        cv2.putText(
            image, text, (20, y), cv2.FONT_HERSHEY_DUPLEX, scale, (30, 30, 30), 2, cv2.LINE_AA
        )
        y += 70 if big else 45
    return image


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "images").mkdir()
    cv2.imwrite(
        str(tmp_path / "images" / "a.png"), photo(["Use by", "16 NOV", "Keep refrigerated"])
    )
    cv2.imwrite(str(tmp_path / "images" / "b.png"), photo(["Typical values", "Fat 8.6g", "09 DEC"]))
    (tmp_path / "gt.tsv").write_text(
        "image\ttext\tnote\n"
        "images/a.png\t16 NOV\tfirst\n"
        "images/b.png\t19 DEC\n"  # the photo shows 09 DEC: not found, one wrong character
        "images/gone.png\t01 JAN\n"
        "only-a-path\n"
        "\n",
        encoding="utf-8",
    )
    return tmp_path


def test_scores_what_was_read(folder: Path) -> None:
    calls: list[tuple[int, int]] = []
    out = evaluate_ocr(folder, threads=1, progress=lambda d, t: calls.append((d, t)))
    assert out["images"] == 2 and out["found"] == 1 and out["found_rate"] == 0.5
    per = {r["image"]: r for r in out["per_image"]}
    assert per["images/a.png"]["found"] and per["images/a.png"]["cer"] == 0.0
    assert not per["images/b.png"]["found"]
    assert per["images/b.png"]["cer"] == pytest.approx(1 / 5)  # "19DEC" against "09DEC"
    assert out["cer"] == pytest.approx(0.1)
    assert out["missing_files"] == ["images/gone.png"]
    assert len(out["bad_rows"]) == 1 and out["bad_rows"][0].startswith("line 5:")
    assert out["median_ms"] > 0
    assert calls[-1] == (3, 3)


def test_missing_folder_or_header_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        evaluate_ocr(tmp_path / "nope")
    with pytest.raises(ValueError, match=r"gt\.tsv: ground-truth file not found"):
        evaluate_ocr(tmp_path)
    (tmp_path / "gt.tsv").write_text("file,text\n", encoding="utf-8")
    with pytest.raises(ValueError, match="header"):
        evaluate_ocr(tmp_path)
