"""The headless commands as a user types them: output shape, exit codes, clear errors."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
import zxingcpp
from support.recipes import demo_with_tools

from inspection.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict, str]:
    rc = main(list(args))
    out = capsys.readouterr()
    data = json.loads(out.out) if out.out.strip().startswith("{") else {}
    return rc, data, out.err


def codes_only_recipe(tmp_path: Path) -> Path:
    """The demo's camera and code tool alone (the label tool's OCR would make the test slow)."""
    doc = demo_with_tools("codes")
    p = tmp_path / "codes.yaml"
    p.write_text(yaml.safe_dump(doc))
    return p


def test_run_headless_prints_counts_and_truth(capsys, lineside_home: Path):
    rc, data, _ = run_cli(capsys, "run", "--headless", "--parts", "40", "--json")
    assert data["parts"] == 40
    assert data["pass"] + data["fail"] + data["error"] == 40
    assert data["dropped"] == 0
    t = data["vs_truth"]
    assert t["tp"] + t["fp"] + t["tn"] + t["fn"] == 40
    assert set(t["covered_defects"]) == {
        "damaged_code",
        "wrong_serial_format",
        "duplicate_serial",
        "missing_label",
        "skewed_label",
        "misprinted_lot",
        "scratch",
        "stain",
        "dent",
    }
    # first use of the demo: surface model and label taught from the simulated line
    assert set(data["taught_on_first_use"]) == {"label", "surface"}
    assert (lineside_home / "data" / "models" / "demo" / "label.label.png").is_file()
    assert rc == (1 if data["error"] or t["fp"] or t["fn"] else 0)
    assert (lineside_home / "data" / "results.sqlite").exists()
    # every result reported was committed: recorded beside parts, nothing to complain of
    assert data["recorded"] == 40 and data["asked"] == 40 and data["problems"] == []


def test_a_run_whose_camera_is_absent_ends_and_exits_1_saying_why(capsys, tmp_path: Path):
    doc = demo_with_tools("codes")
    # a network camera nobody answers for (a closed port on this machine)
    doc["cameras"][0]["source"] = {"type": "rtsp", "url": "rtsp://127.0.0.1:9/absent"}
    recipe = tmp_path / "absent.yaml"
    recipe.write_text(yaml.safe_dump(doc))
    rc, data, err = run_cli(
        capsys, "run", "--headless", "--recipe", str(recipe), "--parts", "5",
        "--idle-timeout", "3", "--json",
    )  # fmt: skip
    assert rc == 1 and data["parts"] == 0 and data["recorded"] == 0
    assert data["problems"][0] == "inspected 0 of the 5 parts asked"
    assert "no part inspected for 3 s (cameras: cam1); stopped" in data["problems"][1]
    assert "inspected 0 of the 5 parts asked" in err


def test_errors_are_one_json_object_on_stdout_and_run_time_failures_exit_1(capsys, tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncameras:\n  - id: c\n    source: {type: synthetic, fps: 3}\n")
    rc, data, err = run_cli(capsys, "run", "--headless", "--recipe", str(bad), "--json")
    assert rc == 2 and data["kind"] == "bad input" and data["command"] == "run"
    assert "cameras[0].source.fps: Extra inputs are not permitted" in data["error"]
    # a failure while the command ran (too few good images to teach) is 1, not bad usage
    folder = tmp_path / "set"
    for sub in ("train/good", "test/good"):
        (folder / sub).mkdir(parents=True)
    rc, data, err = run_cli(capsys, "eval", "anomaly", "--data", str(folder), "--json")
    assert rc == 1 and data["kind"] == "failed" and "need at least 5" in data["error"]
    assert "need at least 5" in err


def test_run_twice_on_one_data_folder_goes_on_without_false_rejects(
    capsys, tmp_path: Path, lineside_home: Path
):
    recipe = str(codes_only_recipe(tmp_path))
    _, first, _ = run_cli(
        capsys, "run", "--headless", "--recipe", recipe, "--parts", "30", "--json"
    )
    rc, second, _ = run_cli(
        capsys, "run", "--headless", "--recipe", recipe, "--parts", "30", "--json"
    )
    assert first["part_numbers"] == {"first": 1, "last": 30}
    assert second["part_numbers"] == {"first": 31, "last": 60}
    assert second["parts"] == 30
    assert second["vs_truth"]["fp"] == 0, second["vs_truth"]["false_alarms"]
    assert rc == (1 if second["error"] or second["vs_truth"]["fn"] else 0)
    with sqlite3.connect(lineside_home / "data" / "results.sqlite") as conn:
        rows, distinct = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT part_seq) FROM inspections WHERE station = ?",
            ("demo-station",),
        ).fetchone()
    assert rows == distinct == 60


def test_run_refuses_a_broken_recipe_with_exit_2(capsys, tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncameras:\n  - id: c\n    source: {type: synthetic, fps: 3}\n")
    rc, _, err = run_cli(capsys, "run", "--headless", "--recipe", str(bad), "--parts", "3")
    assert rc == 2
    assert "bad.yaml: cameras[0].source.fps: Extra inputs are not permitted" in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--headless", "--parts", "0"], "--parts must be positive"),
        (["run", "--parts", "3"], "use --headless"),
        (["eval", "codes", "--data", "/no/such/folder"], "no such folder"),
    ],
)
def test_bad_usage_exits_2_with_a_message(capsys, args, message):
    rc, _, err = run_cli(capsys, *args)
    assert rc == 2 and message in err


def test_unknown_subcommand_exits_2(capsys):
    assert main(["frobnicate"]) == 2


def test_train_teaches_a_tool_and_refuses_what_is_not_taught(capsys, lineside_home: Path):
    rc, data, _ = run_cli(capsys, "train", "--tool", "label", "--from-line", "2", "--json")
    assert rc == 0 and data["tool"] == "label" and Path(data["written"]).is_file()
    rc, _, err = run_cli(capsys, "train", "--tool", "serial", "--from-line", "2")
    assert rc == 2 and "is not taught" in err
    rc, _, err = run_cli(capsys, "train", "--tool", "nope", "--from-line", "2")
    assert rc == 2 and "no tool 'nope'" in err


def test_simulate_writes_frames_and_truth(capsys, tmp_path: Path):
    out = tmp_path / "sim"
    rc, data, _ = run_cli(
        capsys,
        "simulate",
        "--out",
        str(out),
        "--parts",
        "6",
        "--json",
        "--width",
        "640",
        "--height",
        "512",
    )
    assert rc == 0 and data["parts"] == 6
    lines = (out / "truth.jsonl").read_text().splitlines()
    assert len(lines) == 6
    first = json.loads(lines[0])
    img = cv2.imread(str(out / first["file"]), cv2.IMREAD_UNCHANGED)
    assert img is not None and img.shape[:2] == (512, 640)


def test_eval_codes_counts_a_labelled_folder(capsys, tmp_path: Path):
    data = tmp_path / "codes"
    (data / "qr").mkdir(parents=True)
    for i, text in enumerate(["HELLO-1", "HELLO-2"]):
        img = zxingcpp.write_barcode_to_image(
            zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode), scale=4
        )
        cv2.imwrite(str(data / "qr" / f"{i}.png"), np.pad(np.asarray(img), 20, constant_values=255))
        (data / "qr" / f"{i}.txt").write_text(text)
    rc, result, _ = run_cli(
        capsys, "eval", "codes", "--data", str(data), "--formats", "QRCode", "--json"
    )
    assert rc == 0
    assert result["total"]["images"] == 2 and result["total"]["correct"] == 2
    assert "median_ms" in result["folders"]["qr"]
    rc, _, err = run_cli(capsys, "eval", "codes", "--data", str(data), "--formats", "Nope")
    assert rc == 2 and "unknown code format 'Nope'" in err


def test_bench_reports_throughput_and_overhead(capsys, tmp_path: Path):
    rc, data, _ = run_cli(
        capsys,
        "bench",
        "--recipe",
        str(codes_only_recipe(tmp_path)),
        "--parts",
        "20",
        "--workers",
        "1,2",
        "--json",
    )
    assert rc == 0
    assert [r["workers"] for r in data["runs"]] == [1, 2]
    for r in data["runs"]:
        assert r["parts"] == 20 and r["finished"] and r["parts_per_s"] > 0
        assert r["overhead_ratio"] > 0
        assert r["latency_ms"]["p50"] <= r["latency_ms"]["p95"] <= r["latency_ms"]["p99"]
        # the figures are of parts the line would judge: none ERROR for want of what it knows
        assert sum(r["verdicts"].values()) == 20 and "ERROR" not in r["verdicts"]
    # each run has records of its own: the same parts are judged alike (not duplicate serials)
    assert data["runs"][0]["verdicts"] == data["runs"][1]["verdicts"]
    assert data["tools_raw_ms"]["serial"] > 0
    for key in ("parts_per_s", "overhead_ratio", "latency_ms", "tools_raw_ms", "workers"):
        assert key in data
    # latency as the line sees it: parts paced at 80 % of the capacity just measured
    paced = data["latency_ms_paced"]
    assert set(paced) == {"rate", "p50", "p95", "p99"}
    assert paced["rate"] == pytest.approx(0.8 * data["parts_per_s"], rel=0.02)
    assert 0 < paced["p50"] <= paced["p95"] <= paced["p99"]
    runs = data["latency_runs"]
    assert (
        runs["paced"]["tools_side_by_side"] and not runs["paced_one_by_one"]["tools_side_by_side"]
    )
    assert runs["paced"]["parts"] == 15 and runs["paced"]["finished"]  # 20 less 5 warming up
