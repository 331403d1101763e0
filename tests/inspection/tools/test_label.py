"""LabelTool on the simulated line: taught from a good part, then good, missing, skewed and
misprinted labels, an untaught tool, a missing batch value and bad frames."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from inspection.batch import BatchContext
from inspection.errors import ModelError, ToolError
from inspection.recipe import LabelToolSettings, SyntheticSourceSettings
from inspection.sources.synthetic import SyntheticLine
from inspection.tools.base import Tool, run_guarded
from inspection.tools.label import LabelTool, reference_path, teach_label_tool
from inspection.tools.registry import ToolContext
from inspection.types import Frame, Verdict

FIELDS: list[dict[str, Any]] = [
    {"name": "product", "region": {"x": 8, "y": 16, "w": 285, "h": 38}, "rule": "batch"},
    {"name": "lot", "region": {"x": 8, "y": 82, "w": 240, "h": 36}, "rule": "batch"},
    {
        "name": "expiry",
        "region": {"x": 8, "y": 130, "w": 260, "h": 36},
        "rule": "date",
        "date_formats": ["EXP %Y-%m"],
        "min_days_ahead": 30,
    },
]


def settings(**kw: Any) -> LabelToolSettings:
    base: dict[str, Any] = {
        "type": "label",
        "id": "label",
        "roi": {"x": 200, "y": 220, "w": 480, "h": 420},
        "max_offset_px": 100,
        "max_rotation_deg": 5.0,
        "fields": FIELDS,
    }
    base.update(kw)
    return LabelToolSettings.model_validate(base)


@pytest.fixture(scope="module")
def line() -> SyntheticLine:
    return SyntheticLine(SyntheticSourceSettings(type="synthetic", seed=7))


def first(line: SyntheticLine, defect: str | None) -> int:
    for i in range(500):
        t = line.truth(i)
        if (defect is None and t.is_good) or defect in t.defects:
            return i
    raise AssertionError(f"no {defect} part in the first 500")


def frame(line: SyntheticLine, index: int) -> Frame:
    image, truth = line.render_part(index)
    return Frame(camera="cam1", seq=index, t_ns=0, image=image, truth=truth)


@pytest.fixture(scope="module")
def taught(line: SyntheticLine, tmp_path_factory: pytest.TempPathFactory) -> ToolContext:
    ctx = ToolContext(
        models_dir=tmp_path_factory.mktemp("models"),
        threads=1,
        batch=BatchContext(line.batch_info()),
    )
    path = teach_label_tool(settings(), ctx, line.render_part(first(line, None))[0])
    assert path == ctx.models_dir / "label.label.png" and path.with_suffix(".json").is_file()  # type: ignore[operator]
    return ctx


@pytest.fixture(scope="module")
def tool(taught: ToolContext) -> LabelTool:
    return LabelTool(settings(), "cam1", taught, today=lambda: date(2026, 6, 1))


def test_is_a_tool_with_the_reference_hash(tool: LabelTool, taught: ToolContext) -> None:
    assert isinstance(tool, Tool) and tool.tool_type == "label"
    digest = tool.model_hashes()["label"]
    assert len(digest) == 64 and digest != "0" * 64


def test_good_parts_pass_with_fields_and_quality(line: SyntheticLine, tool: LabelTool) -> None:
    good = [i for i in range(40) if line.truth(i).is_good][:3]
    for i in good:
        r = run_guarded(tool, frame(line, i))
        assert r.verdict is Verdict.PASS, r.reason
        fields = {f["name"]: f for f in r.details["fields"]}
        assert fields["lot"]["value"] == "L2507D" and fields["lot"]["verdict"] == "PASS"
        assert fields["expiry"]["value"] == "EXP 2030-06"
        assert fields["product"]["value"] == line.batch.product
        assert set(r.details) >= {"fields", "offset_px", "rotation_deg", "match"}
        assert r.measurements["match"] > 0.9 and abs(r.measurements["rotation_deg"]) < 5.0
        for name in ("lot", "expiry", "product"):
            assert 0.5 < r.measurements[f"{name}_contrast"] <= 1.0
            assert 0.1 < r.measurements[f"{name}_sharpness"] <= 1.0
        assert len(r.overlays) == 4 and all(o.ok for o in r.overlays)
        assert r.overlays[2].label == "lot: L2507D"


def test_missing_label(line: SyntheticLine, tool: LabelTool) -> None:
    r = run_guarded(tool, frame(line, first(line, "missing_label")))
    assert r.verdict is Verdict.FAIL and r.reason == "label missing"


def test_skewed_label(line: SyntheticLine, tool: LabelTool) -> None:
    r = run_guarded(tool, frame(line, first(line, "skewed_label")))
    assert r.verdict is Verdict.FAIL
    assert r.reason.startswith("label skewed (") and "° > 5.0°)" in r.reason
    assert not r.overlays[0].ok


def test_misprinted_lot_names_both_lots(line: SyntheticLine, tool: LabelTool) -> None:
    i = first(line, "misprinted_lot")
    r = run_guarded(tool, frame(line, i))
    assert r.verdict is Verdict.FAIL
    assert r.reason == f"lot reads '{line.truth(i).lot}', batch is 'L2507D'"


def test_shift_tolerance_in_px_and_mm(line: SyntheticLine, taught: ToolContext) -> None:
    f = frame(line, first(line, None))
    image = np.roll(f.image, 60, axis=1)  # the whole part moved 60 px along the line
    moved = Frame(camera="cam1", seq=0, t_ns=0, image=np.ascontiguousarray(image))
    strict = LabelTool(settings(max_offset_px=40, fields=[]), "cam1", taught)
    r = run_guarded(strict, moved)
    assert (
        r.verdict is Verdict.FAIL
        and r.reason.startswith("label shifted (")
        and "px > 40 px)" in r.reason
    )
    assert 55 < r.measurements["offset_px"] < 65
    in_mm = LabelTool(settings(mm_per_px=0.1, max_offset_mm=4.0, fields=[]), "cam1", taught)
    r = run_guarded(in_mm, moved)
    assert r.reason.startswith("label shifted (") and "mm > 4.0 mm)" in r.reason
    assert r.measurements["offset_mm"] == pytest.approx(r.measurements["offset_px"] * 0.1)


def test_expired_date_fails_with_injected_today(line: SyntheticLine, taught: ToolContext) -> None:
    late = LabelTool(settings(), "cam1", taught, today=lambda: date(2030, 6, 15))
    r = run_guarded(late, frame(line, first(line, None)))
    assert r.verdict is Verdict.FAIL
    assert r.reason == "expiry 2030-06 is only 15 days ahead (needs 30)"


def test_missing_batch_value_is_an_error(line: SyntheticLine, taught: ToolContext) -> None:
    ctx = ToolContext(models_dir=taught.models_dir, threads=1, batch=BatchContext({"product": "X"}))
    r = run_guarded(LabelTool(settings(), "cam1", ctx), frame(line, first(line, None)))
    assert r.verdict is Verdict.ERROR and r.reason.startswith("no batch lot set; ")
    assert "product reads 'COLD BREW 330 ML', batch is 'X'" in r.reason


def test_fields_without_regions_are_searched(line: SyntheticLine, taught: ToolContext) -> None:
    fields = [
        {"name": "lot", "rule": "batch"},
        {"name": "expiry", "rule": "date", "date_formats": ["EXP %Y-%m"], "min_days_ahead": 30},
    ]
    searching = LabelTool(settings(fields=fields), "cam1", taught, today=lambda: date(2026, 6, 1))
    r = run_guarded(searching, frame(line, first(line, None)))
    assert r.verdict is Verdict.PASS, r.reason
    assert [f["value"] for f in r.details["fields"]] == ["L2507D", "EXP 2030-06"]
    bad = run_guarded(searching, frame(line, first(line, "misprinted_lot")))
    assert bad.verdict is Verdict.FAIL and bad.reason.startswith("lot reads '")


def test_untaught_tool_gives_error(line: SyntheticLine, tmp_path: Path) -> None:
    ctx = ToolContext(models_dir=tmp_path, threads=1, batch=BatchContext(line.batch_info()))
    t = LabelTool(settings(id="fresh", fields=[]), "cam1", ctx)
    r = run_guarded(t, frame(line, 0))
    assert r.verdict is Verdict.ERROR and r.reason == "label tool 'fresh' has not been taught yet"
    assert t.model_hashes() == {}
    # teaching while the tool runs takes effect on the next part
    teach_label_tool(settings(id="fresh"), ctx, line.render_part(first(line, None))[0])
    assert run_guarded(t, frame(line, first(line, None))).verdict is Verdict.PASS
    assert len(t.model_hashes()["fresh"]) == 64


def test_settings_problems_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="max_offset_mm needs mm_per_px"):
        LabelTool(settings(max_offset_mm=2.0, fields=[]), "cam1", ToolContext(models_dir=tmp_path))
    with pytest.raises(ToolError, match="no model folder"):
        reference_path(settings(), ToolContext())
    (tmp_path / "label.label.png").write_bytes(b"not a png")
    with pytest.raises(ModelError, match="unreadable"):
        LabelTool(settings(fields=[]), "cam1", ToolContext(models_dir=tmp_path))


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((1024, 1280), np.uint8),
        np.full((1024, 1280), 255, np.uint8),
        np.random.default_rng(3).integers(0, 256, (1024, 1280), dtype=np.uint8),
        np.zeros((4, 4), np.uint8),
        np.zeros((100, 100), np.float32),
        np.zeros((50, 60, 3), np.uint8),
    ],
)
def test_bad_frames_never_pass(tool: LabelTool, image: np.ndarray) -> None:
    r = run_guarded(tool, Frame(camera="cam1", seq=0, t_ns=0, image=image))
    assert r.verdict is not Verdict.PASS and r.reason


def test_teaching_on_the_whole_frame_takes_the_label_not_the_pack(line: SyntheticLine) -> None:
    from inspection.tools.label_locate import teach_label

    reference = teach_label(line.render_part(first(line, None))[0], None)
    w, h = reference.size
    # the printed label is 300 × 226 px on a 1280 px frame; the pack around it is 768 × 500
    assert abs(w - 300) <= 4 and abs(h - 226) <= 4


def test_a_frame_the_roi_misses_is_an_error_naming_the_roi(tool: LabelTool) -> None:
    r = run_guarded(tool, Frame(camera="cam1", seq=0, t_ns=0, image=np.zeros((50, 60), np.uint8)))
    assert r.verdict is Verdict.ERROR
    assert r.reason == "ROI x=200 y=220 480×420 lies outside the 60×50 px frame"


def test_dot_matrix_fields_on_solid_print_read_as_before(
    line: SyntheticLine, taught: ToolContext
) -> None:
    # the option on a field printed solid finds no dots and reads the print as it is, whether
    # the field has a region or is searched (beside a solid field, on its own pass)
    fields = [
        {**FIELDS[1], "print": "dot_matrix"},
        {"name": "expiry", "rule": "date", "date_formats": ["EXP %Y-%m"], "print": "dot_matrix"},
        {"name": "product", "rule": "batch"},
    ]
    t = LabelTool(settings(fields=fields), "cam1", taught, today=lambda: date(2026, 6, 1))
    r = run_guarded(t, frame(line, first(line, None)))
    assert r.verdict is Verdict.PASS, r.reason
    assert [f["value"] for f in r.details["fields"]][:2] == ["L2507D", "EXP 2030-06"]
    bad = run_guarded(t, frame(line, first(line, "misprinted_lot")))
    assert bad.verdict is Verdict.FAIL and bad.reason.startswith("lot reads '")
