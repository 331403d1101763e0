"""evaluate_codes on a sample folder the test builds: exact counts per outcome and folder."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import zxingcpp

from inspection.evaluation.codes import evaluate_codes
from inspection.evaluation.retail_codes import write_retail_codes


def code_image(content: str | bytes, fmt: str, scale: int = 4) -> np.ndarray:
    barcode = zxingcpp.create_barcode(content, getattr(zxingcpp.BarcodeFormat, fmt))
    image = np.asarray(zxingcpp.write_barcode_to_image(barcode, scale=scale))
    return np.pad(image, 20, constant_values=255)


def write(path: Path, image: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)
    return path


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    dm, qr = tmp_path / "datamatrix-1", tmp_path / "qrcode-1"
    # correct: text label, and bytes label for a binary payload
    write(dm / "good.png", code_image("LOT-42", "DataMatrix"))
    (dm / "good.txt").write_text("LOT-42", encoding="utf-8")
    payload = bytes([0xFF, 0x00, 0x80, 0x41])
    write(dm / "binary.png", code_image(payload, "DataMatrix"))
    (dm / "binary.bin").write_bytes(payload)
    # misread: the label says something else
    write(dm / "wrong.png", code_image("LOT-43", "DataMatrix"))
    (dm / "wrong.txt").write_text("LOT-44", encoding="utf-8")
    # not read: a labelled blank image
    write(dm / "blank.png", np.full((80, 80), 255, np.uint8))
    (dm / "blank.txt").write_text("LOT-45", encoding="utf-8")
    # unlabelled: scored nowhere
    write(qr / "nolabel.jpg", code_image("hello", "QRCode"))
    # a low-contrast QR only the ladder reads
    faded = (128 + (code_image("faded", "QRCode").astype(np.float64) - 128) * 0.04).astype(np.uint8)
    write(qr / "faded.png", faded)
    (qr / "faded.txt").write_text("faded", encoding="utf-8")
    # corrupt / truncated files
    (qr / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    good_png = (dm / "good.png").read_bytes()
    (qr / "truncated.png").write_bytes(good_png[:40])
    # false positives: nothing must be read here; one image does hold a code
    fp = tmp_path / "falsepositives-1"
    write(fp / "plain.png", np.full((60, 90), 200, np.uint8))
    write(fp / "noise.bmp", np.random.default_rng(1).integers(0, 256, (64, 64), dtype=np.uint8))
    write(fp / "sneaky.png", code_image("oops", "QRCode"))
    (tmp_path / "notes.txt").write_text("not an image", encoding="utf-8")
    return tmp_path


def test_counts_per_outcome_and_folder(samples: Path) -> None:
    calls: list[tuple[int, int]] = []
    report = evaluate_codes(samples, progress=lambda done, total: calls.append((done, total)))
    json.dumps(report)
    assert report["reader"] == "lineside"
    assert report["formats"] == []
    assert sorted(report["unreadable_files"]) == ["qrcode-1/corrupt.png", "qrcode-1/truncated.png"]
    dm = report["folders"]["datamatrix-1"]
    assert {k: dm[k] for k in ("images", "correct", "misread", "not_read")} == {
        "images": 4,
        "correct": 2,
        "misread": 1,
        "not_read": 1,
    }
    assert dm["false_positive"] == dm["unlabelled"] == 0
    qr = report["folders"]["qrcode-1"]
    assert (qr["images"], qr["correct"], qr["unlabelled"], qr["not_read"]) == (2, 1, 1, 0)
    fp = report["folders"]["falsepositives-1"]
    assert (fp["images"], fp["correct"], fp["false_positive"]) == (3, 2, 1)
    total = report["total"]
    assert total["images"] == 9
    assert (total["correct"], total["misread"], total["not_read"]) == (5, 1, 1)
    assert (total["false_positive"], total["unlabelled"]) == (1, 1)
    assert total["median_ms"] > 0.0
    assert calls[-1] == (11, 11) and len(calls) == 11


def test_plain_reader_misses_the_faded_code(samples: Path) -> None:
    report = evaluate_codes(samples, ["DataMatrix", "QRCode"], plain=True)
    assert report["reader"] == "lineside"
    plain = report["plain"]
    assert plain["reader"] == "plain"
    assert plain["formats"] == report["formats"] == ["DataMatrix", "QRCode"]
    qr = plain["folders"]["qrcode-1"]
    assert (qr["correct"], qr["not_read"], qr["unlabelled"]) == (0, 1, 1)
    assert plain["total"]["correct"] == 4
    assert report["folders"]["qrcode-1"]["correct"] == 1
    assert report["total"]["correct"] == 5


def test_plain_reports_the_same_fields_as_the_ladder(samples: Path) -> None:
    report = evaluate_codes(samples, plain=True)
    json.dumps(report)
    plain = report.pop("plain")
    assert set(plain) == set(report)
    assert set(plain["folders"]) == set(report["folders"])
    for name, entry in report["folders"].items():
        assert set(plain["folders"][name]) == set(entry)
    assert set(plain["total"]) == set(report["total"]) >= {"misread", "not_read", "median_ms"}
    # the mislabelled DataMatrix is a misread for both, listed with what each read
    for r in (report, plain):
        assert r["total"]["misread"] == 1
        assert r["misreads"] == [
            {"file": "datamatrix-1/wrong.png", "expected": "LOT-44", "read": ["LOT-43"]},
            {"file": "falsepositives-1/sneaky.png", "expected": None, "read": ["oops"]},
        ]
    assert plain["unreadable_files"] == report["unreadable_files"]
    assert "plain" not in evaluate_codes(samples, ["QRCode"])


def test_formats_limit_what_is_read(samples: Path) -> None:
    report = evaluate_codes(samples, ["Code128"])
    assert report["folders"]["datamatrix-1"]["not_read"] == 4
    assert report["folders"]["falsepositives-1"]["false_positive"] == 0


def test_false_positive_folder_given_directly(samples: Path) -> None:
    report = evaluate_codes(samples / "falsepositives-1", ["QRCode"])
    assert report["folders"] == {".": report["total"]}
    assert (report["total"]["images"], report["total"]["false_positive"]) == (3, 1)


def test_bad_arguments_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        evaluate_codes(tmp_path / "missing")
    with pytest.raises(ValueError, match="unknown code format 'Nope'"):
        evaluate_codes(tmp_path, ["Nope"])
    with pytest.raises(ValueError, match="unknown add-on mode 'maybe'"):
        evaluate_codes(tmp_path, add_on="maybe")


def test_generated_hard_retail_codes_misread_no_more_than_a_plain_call(tmp_path: Path) -> None:
    # Hard EAN/UPC photos, some with an add-on the label does not ask for: the ladder must
    # read more than one plain call and misread no more.
    write_retail_codes(tmp_path, 24, seed=5)
    report = evaluate_codes(tmp_path, ["EAN13", "UPCA", "UPCE", "EAN8"], plain=True)
    ladder, plain = report["total"], report["plain"]["total"]
    assert ladder["images"] == plain["images"] == 24
    assert ladder["misread"] <= plain["misread"], report["misreads"]
    assert ladder["correct"] > plain["correct"]
    assert report["add_on"] == report["plain"]["add_on"] == "ignore"


def test_a_missed_add_on_is_counted_apart_from_a_wrong_number(tmp_path: Path) -> None:
    from inspection.evaluation.codes import _Case, _score

    def case(text: str) -> _Case:
        return _Case(tmp_path / "x.png", "f", text, None, False)

    got = [("0027011006951", b"")]
    assert _score(case("002701100695102601"), got) == "add_on_missed"  # main right, EAN-5 not
    assert _score(case("0027011006951"), got) == "correct"
    assert _score(case("0027011006952"), got) == "misread"  # a wrong digit stays a misread
    assert _score(case("00270110069510260"), got) == "misread"  # 4 more digits: no add-on
