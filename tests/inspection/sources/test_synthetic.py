"""The simulated line: deterministic frames, honest ground truth, each defect where it belongs."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
import zxingcpp

from inspection.errors import SourceError
from inspection.recipe import SIMULATED_DEFECTS, SyntheticSourceSettings
from inspection.sources.base import ResumableLine, Source
from inspection.sources.synthetic import SyntheticLine, write_simulation
from inspection.sources.synthetic_render import CODE_ZONE, LABEL_ZONE, SURFACE_ZONE, Rect

SERIAL = re.compile(r"^SN-\d{4}-\d{6}$")
FORMATS = (zxingcpp.BarcodeFormat.DataMatrix, zxingcpp.BarcodeFormat.Code128)


def settings(**kw: object) -> SyntheticSourceSettings:
    return SyntheticSourceSettings.model_validate({"type": "synthetic", **kw})


def digest(image: np.ndarray) -> str:
    return hashlib.sha256(image.tobytes()).hexdigest()


def decoded(image: np.ndarray, **kw: object) -> list[tuple[str, str]]:
    return sorted(
        (r.format.name, r.text) for r in zxingcpp.read_barcodes(image, formats=FORMATS, **kw)
    )


def test_is_a_source() -> None:
    assert isinstance(SyntheticLine(settings()), Source)


def test_same_seed_gives_same_frames_and_truths() -> None:
    a, b = SyntheticLine(settings(seed=5)), SyntheticLine(settings(seed=5))
    c = SyntheticLine(settings(seed=6))
    for i in range(4):
        (ia, ta), (ib, tb), (ic, tc) = a.render_part(i), b.render_part(i), c.render_part(i)
        assert digest(ia) == digest(ib)
        assert ta == tb
        assert digest(ia) != digest(ic)
        assert ta.serial != tc.serial


def test_render_part_does_not_depend_on_call_order() -> None:
    fresh = SyntheticLine(settings(seed=9, defect_rate=0.6)).render_part(7)
    busy = SyntheticLine(settings(seed=9, defect_rate=0.6))
    for i in (3, 11, 0, 8):
        busy.render_part(i)
    again = busy.render_part(7)
    assert digest(fresh[0]) == digest(again[0])
    assert fresh[1] == again[1]


@pytest.mark.parametrize("mode", ["triggered", "video"])
@pytest.mark.parametrize("color", [False, True])
def test_frames_are_contiguous_uint8_of_the_asked_size(mode: str, color: bool) -> None:
    line = SyntheticLine(settings(mode=mode, color=color, width=800, height=600), camera="top")
    assert line.live is (mode == "video")
    line.open()
    frames = [line.read(timeout_s=1.0) for _ in range(3)]
    line.close()
    shape = (600, 800, 3) if color else (600, 800)
    for seq, frame in enumerate(frames):
        assert frame is not None
        assert frame.camera == "top" and frame.seq == seq
        assert frame.image.shape == shape and frame.image.dtype == np.uint8
        assert frame.image.flags.c_contiguous
    assert frames[0].t_ns <= frames[1].t_ns <= frames[2].t_ns
    if mode == "triggered":
        assert all(f.truth is not None and f.truth.part_index == f.seq for f in frames)


def test_default_frame_is_1280_by_1024_grey() -> None:
    image, _ = SyntheticLine(settings()).render_part(0)
    assert image.shape == (1024, 1280)


def test_defect_share_follows_the_rate() -> None:
    line = SyntheticLine(settings(seed=3, defect_rate=0.25))
    truths = [line.truth(i) for i in range(400)]
    defective = [t for t in truths if t.defects]
    assert 0.19 <= len(defective) / 400 <= 0.31
    assert all(len(t.defects) == 1 and t.defects[0] in SIMULATED_DEFECTS for t in defective)
    assert len({t.defects[0] for t in defective}) == len(SIMULATED_DEFECTS)


def test_defects_are_restricted_to_the_asked_kinds() -> None:
    line = SyntheticLine(settings(defect_rate=0.5, defects=["stain", "scratch"]))
    kinds = {t.defects[0] for t in (line.truth(i) for i in range(200)) if t.defects}
    assert kinds == {"stain", "scratch"}


@pytest.mark.parametrize("kind", SIMULATED_DEFECTS)
def test_each_kind_appears_when_asked_alone(kind: str) -> None:
    line = SyntheticLine(settings(seed=2, defect_rate=1.0, defects=[kind]))
    for i in (1, 2):
        image, truth = line.render_part(i)
        assert truth.defects == (kind,)
        assert image.shape == (1024, 1280)


def _zone_mask(line: SyntheticLine, zone: Rect, grow: int) -> np.ndarray:
    g = line.geometry
    x0, y0, x1, y1 = g.in_sprite(zone)
    mask = np.zeros((g.sprite_h, g.sprite_w), bool)
    mask[max(0, y0 - grow) : y1 + grow, max(0, x0 - grow) : x1 + grow] = True
    return mask


@pytest.mark.parametrize(
    ("kind", "zone"),
    [
        ("scratch", SURFACE_ZONE),
        ("stain", SURFACE_ZONE),
        ("dent", SURFACE_ZONE),
        ("missing_label", LABEL_ZONE),
        ("skewed_label", LABEL_ZONE),
        ("misprinted_lot", LABEL_ZONE),
        ("damaged_code", CODE_ZONE),
    ],
)
def test_a_defect_changes_only_its_own_zone(kind: str, zone: Rect) -> None:
    """So each defect is found by the tool meant for it (and no other tool fails the part)."""
    line = SyntheticLine(settings(seed=4, defect_rate=1.0, defects=[kind]))
    printer = line._parts()[1]
    allowed = _zone_mask(line, zone, grow=4)
    touched = np.zeros_like(allowed)
    for i in range(1, 13):
        plan = dataclasses.replace(line.plan.part(i), angle_deg=0.0)
        clean = dataclasses.replace(
            plan,
            defect=None,
            damaged_codes=(),
            lot=line.batch.lot,
            label_angle_deg=0.0,
            product=line.batch.product,
            expiry=line.batch.expiry,
        )
        if kind != "skewed_label":
            clean = dataclasses.replace(clean, label_angle_deg=plan.label_angle_deg)
        a, b = printer.sprite(plan), printer.sprite(clean)
        diff = (a.premul != b.premul) | (a.keep != b.keep)
        if diff.ndim == 3:
            diff = diff.any(axis=2)
        assert diff.any(), f"part {i}: {kind} changed nothing"
        assert not (diff & ~allowed).any(), f"part {i}: {kind} drawn outside its zone"
        touched |= diff
    assert touched.any()


def test_good_parts_codes_read_on_the_full_frame() -> None:
    line = SyntheticLine(settings(seed=21, defect_rate=0.0))
    serials = set()
    for i in range(100):
        image, truth = line.render_part(i)
        assert decoded(image) == [("Code128", truth.serial), ("DataMatrix", truth.serial)], i
        assert SERIAL.match(truth.serial)
        assert truth.codes == ("DataMatrix", "Code128")
        serials.add(truth.serial)
    assert len(serials) == 100


@pytest.mark.parametrize(
    ("codes", "names"), [("datamatrix", ["DataMatrix"]), ("code128", ["Code128"])]
)
def test_single_code_settings_print_one_code(codes: str, names: list[str]) -> None:
    line = SyntheticLine(settings(seed=8, defect_rate=0.0, codes=codes))
    for i in range(10):
        image, truth = line.render_part(i)
        assert truth.codes == tuple(names)
        assert decoded(image) == [(names[0], truth.serial)]


def test_damaged_code_cannot_be_read_even_trying_hard() -> None:
    line = SyntheticLine(settings(seed=13, defect_rate=1.0, defects=["damaged_code"]))
    for i in range(12):
        image, truth = line.render_part(i)
        formats_read = {f for f, _ in decoded(image)}
        for binarizer in (zxingcpp.Binarizer.GlobalHistogram, zxingcpp.Binarizer.FixedThreshold):
            formats_read |= {f for f, _ in decoded(image, binarizer=binarizer)}
        formats_read |= {f for f, _ in decoded(image, try_downscale=False)}
        assert len(formats_read) < len(truth.codes), f"part {i}: every code still reads"


def test_wrong_serial_format_is_readable_but_malformed() -> None:
    line = SyntheticLine(settings(seed=17, defect_rate=1.0, defects=["wrong_serial_format"]))
    for i in range(10):
        image, truth = line.render_part(i)
        assert not SERIAL.match(truth.serial)
        assert decoded(image) == [("Code128", truth.serial), ("DataMatrix", truth.serial)]


def test_duplicate_serial_repeats_an_earlier_readable_serial() -> None:
    line = SyntheticLine(settings(seed=19, defect_rate=0.4))
    truths = [line.truth(i) for i in range(150)]
    seen: set[str] = set()
    duplicates = 0
    for t in truths:
        if t.defects == ("duplicate_serial",):
            assert SERIAL.match(t.serial)
            assert t.serial in seen, f"part {t.part_index} duplicates nothing earlier"
            duplicates += 1
        elif t.defects not in (("wrong_serial_format",), ("damaged_code",)):
            assert t.serial not in seen, f"part {t.part_index} repeats a serial"
            seen.add(t.serial)
    assert duplicates >= 3
    first = next(t for t in truths if t.defects == ("duplicate_serial",))
    image, _ = line.render_part(first.part_index)
    assert {text for _, text in decoded(image)} == {first.serial}


def test_part_zero_is_never_a_duplicate() -> None:
    line = SyntheticLine(settings(defect_rate=1.0, defects=["duplicate_serial"]))
    assert line.truth(0).is_good
    assert line.truth(1).serial == line.truth(0).serial


def test_misprinted_lot_differs_from_the_batch_lot() -> None:
    line = SyntheticLine(settings(seed=23, defect_rate=0.5, defects=["misprinted_lot"]))
    truths = [line.truth(i) for i in range(60)]
    assert any(t.defects for t in truths)
    for t in truths:
        if t.defects:
            assert t.lot and t.lot != line.batch.lot
        else:
            assert t.lot == line.batch.lot
            assert re.fullmatch(r"L\d{4}[A-H]", t.lot)
            assert re.fullmatch(r"\d{4}-\d{2}", t.expiry)


def test_read_ends_after_parts_and_needs_open() -> None:
    line = SyntheticLine(settings(parts=3))
    with pytest.raises(SourceError, match="before open"):
        line.read(timeout_s=1.0)
    line.open()
    frames = [line.read(timeout_s=1.0) for _ in range(3)]
    assert [f.seq for f in frames if f is not None] == [0, 1, 2]
    assert line.read(timeout_s=1.0) is None
    line.close()


def test_a_resumed_line_makes_new_parts_with_new_serials() -> None:
    fresh = SyntheticLine(settings(parts=3))
    fresh.open()
    made = [f.truth for f in iter(lambda: fresh.read(timeout_s=1.0), None)]
    fresh.close()

    line = SyntheticLine(settings(parts=3))
    assert isinstance(line, ResumableLine)
    line.resume_after(2)
    line.open()
    first = line.read(timeout_s=1.0)
    assert first is not None and first.truth is not None
    line.close()  # a reconnect goes on too, it does not start the run again
    line.open()
    rest = [f.truth for f in iter(lambda: line.read(timeout_s=1.0), None)]
    line.close()

    resumed = [first.truth, *rest]
    assert [t.part_index for t in resumed] == [3, 4, 5]  # the run's 3 parts, after part 2
    assert [t.part_index for t in made] == [0, 1, 2]
    assert not {t.serial for t in resumed} & {t.serial for t in made}
    assert resumed[0] == line.truth(3)  # the same part 3 as any run of this seed makes


def test_a_resumed_video_line_shows_only_later_packs() -> None:
    line = SyntheticLine(settings(mode="video", parts=2, speed_px_per_frame=120.0, seed=4))
    line.resume_after(5)
    line.open()
    seen = set()
    while (frame := line.read(timeout_s=1.0)) is not None:
        if frame.truth is not None:
            seen.add(frame.truth.part_index)
    line.close()
    assert seen == {6, 7}
    assert line.next_part == 8


def test_pacing_raises_timeout_when_the_next_frame_is_later() -> None:
    line = SyntheticLine(settings(rate_hz=0.5))  # one frame every 2 s
    line.open()
    assert line.read(timeout_s=1.0) is not None
    with pytest.raises(TimeoutError, match="due in"):
        line.read(timeout_s=0.0)
    line.close()


def test_video_shows_every_part_with_its_truth() -> None:
    line = SyntheticLine(settings(mode="video", parts=4, speed_px_per_frame=60.0, seed=31))
    assert line.live
    line.open()
    frames = []
    while (frame := line.read(timeout_s=1.0)) is not None:
        frames.append(frame)
        assert len(frames) < 500
    line.close()
    with_truth = {f.truth.part_index for f in frames if f.truth is not None}
    assert with_truth == {0, 1, 2, 3}
    assert frames[0].truth is None  # the belt starts empty
    assert frames[-1].truth is None  # and the last pack has left
    assert len({digest(f.image) for f in frames}) == len(frames)
    assert [f.seq for f in frames] == list(range(len(frames)))


def test_video_frames_are_deterministic() -> None:
    def run() -> list[str]:
        line = SyntheticLine(settings(mode="video", parts=2, speed_px_per_frame=120.0, seed=4))
        line.open()
        out = []
        while (frame := line.read(timeout_s=1.0)) is not None:
            out.append(digest(frame.image) + repr(frame.truth))
        line.close()
        return out

    assert run() == run()


def test_write_simulation_triggered(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    summary = write_simulation(
        settings(seed=3, defect_rate=0.5),
        tmp_path / "sim",
        parts=8,
        progress=lambda done, total: calls.append((done, total)),
    )
    out = tmp_path / "sim"
    records = [json.loads(line) for line in (out / "truth.jsonl").read_text().splitlines()]
    assert summary["parts"] == 8 and summary["out"] == str(out)
    assert [r["part_index"] for r in records] == list(range(8))
    assert all((out / r["file"]).is_file() for r in records)
    assert sorted(p.name for p in out.glob("*.png")) == [f"part_{i:06d}.png" for i in range(8)]
    assert summary["defective"] == sum(1 for r in records if r["defects"])
    assert summary["defective"] == sum(summary["by_defect"].values())
    for r in records:
        assert r["expected_verdict"] == ("FAIL" if r["defects"] else "PASS")
    assert calls[-1] == (8, 8)


def test_write_simulation_video(tmp_path: Path) -> None:
    summary = write_simulation(
        settings(mode="video", speed_px_per_frame=150.0, seed=5), tmp_path, parts=2
    )
    records = [json.loads(line) for line in (tmp_path / "truth.jsonl").read_text().splitlines()]
    frames = sorted(tmp_path.glob("frame_*.png"))
    assert len(frames) == summary["frames"] > 2
    assert [r["part_index"] for r in records] == [0, 1]
    assert all((tmp_path / r["file"]).is_file() for r in records)


def test_write_simulation_refuses_zero_parts(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="parts must be at least 1"):
        write_simulation(settings(), tmp_path, parts=0)


def test_frame_rate_sanity() -> None:
    line = SyntheticLine(settings(parts=None))
    line.open()
    line.read(timeout_s=1.0)
    t0 = time.perf_counter()
    for _ in range(40):
        line.read(timeout_s=1.0)
    fps = 40 / (time.perf_counter() - t0)
    line.close()
    assert fps > 30, f"{fps:.0f} frames/s"
