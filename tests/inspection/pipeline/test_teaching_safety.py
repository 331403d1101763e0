"""Teaching must not destroy or bypass: an engineer's model file is never overwritten unasked,
image files are masked as frames are, and an ROI that does not fit an image is refused, named."""

from __future__ import annotations

import json
import struct
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import yaml
from support.recipes import demo_with_tools

from inspection.cli import main
from inspection.errors import ModelError, RecipeError, SourceError
from inspection.evaluation.headless import teach_on_first_use
from inspection.inference.anomaly.model_file import load_model
from inspection.inference.manifest import backbone_manifest_path, load_manifest
from inspection.paths import demo_recipe, user_paths
from inspection.pipeline import teaching
from inspection.pipeline.masks import PrivacyMask
from inspection.pipeline.set_aside import set_aside
from inspection.recipe import AnomalyToolSettings, load_recipe, parse_recipe
from inspection.sources.folder import read_image
from inspection.tools.anomaly import AnomalyTool
from inspection.tools.label import teach_label as find_label

NOT_A_MODEL = b"PK\x03\x04 this was the engineer's model before the disk hiccuped"


@pytest.fixture(scope="module")
def good_frames() -> list[np.ndarray]:
    """Six good parts from the demo's simulated line (1024 × 1280 grey, no masks)."""
    return teaching.frames_from_camera(load_recipe(demo_recipe()), "cam1", 6)


def write_frames(folder: Path, frames: list[np.ndarray]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, f in enumerate(frames):
        p = folder / f"good{i:02d}.png"
        assert cv2.imwrite(str(p), f)
        out.append(p)
    return out


def surface_recipe(**changes: Any) -> Any:
    """The demo's camera and surface (defect) tool, with ``changes`` to the tool or, under the
    key ``masks``, privacy masks on the camera."""
    doc = demo_with_tools("anomaly")
    masks = changes.pop("masks", None)
    if masks is not None:
        doc["cameras"][0]["privacy_masks"] = masks
    doc["tools"][0].update(changes)
    doc["tools"][0] = {k: v for k, v in doc["tools"][0].items() if v is not None}
    return parse_recipe(doc, "surface.yaml")


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that says it is ``width`` × ``height`` px (its pixels are not there: nothing may
    try to decode them before refusing the size)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * (width + 1))
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    rc = main(list(args))
    out = capsys.readouterr()
    return rc, (json.loads(out.out) if out.out.strip().startswith("{") else {}), out.err


# ---- 1. a model file teaching cannot use is never overwritten ------------------------------------


def test_a_damaged_model_the_recipe_names_is_left_alone_on_first_use(tmp_path: Path):
    named = tmp_path / "engineers" / "surface-v3.lsam"
    named.parent.mkdir()
    named.write_bytes(NOT_A_MODEL)
    recipe = surface_recipe(model=str(named))
    paths = user_paths().ensure()

    assert teaching.untaught_simulated_tools(recipe, paths) == []
    assert teach_on_first_use(recipe, paths, good_parts=6) == {}
    assert named.read_bytes() == NOT_A_MODEL
    assert sorted(p.name for p in named.parent.iterdir()) == ["surface-v3.lsam"]
    # the station refuses it, naming the file, instead of running on a silently new model
    tool = recipe.tools[0]
    assert isinstance(tool, AnomalyToolSettings)
    with pytest.raises(ModelError, match=r"surface-v3\.lsam"):
        AnomalyTool(tool, "cam1", teaching.tool_context(recipe, paths))


def test_a_damaged_model_in_the_models_folder_is_set_aside_before_teaching_again():
    recipe = surface_recipe()
    paths = user_paths().ensure()
    in_force = paths.models / "demo" / "surface.lsam"
    in_force.parent.mkdir(parents=True)
    in_force.write_bytes(NOT_A_MODEL)
    assert teaching.untaught_simulated_tools(recipe, paths) == ["surface"]

    written = teaching.teach_from_line(recipe, paths, good_parts=6, tools=["surface"])

    assert written == {"surface": in_force}
    load_model(in_force, load_manifest(backbone_manifest_path()).sha256)  # the new one loads
    kept = [
        p
        for p in in_force.parent.glob("surface.lsam.corrupt-*")
        if not p.name.endswith(".reason.txt")
    ]
    assert len(kept) == 1 and kept[0].read_bytes() == NOT_A_MODEL
    reason = kept[0].with_name(kept[0].name + ".reason.txt").read_text(encoding="utf-8")
    assert str(in_force) in reason and "damaged model file" in reason


def test_set_aside_never_reuses_a_name(tmp_path: Path):
    now = datetime(2026, 12, 6, 15, 4, 5, tzinfo=UTC)
    first = tmp_path / "m.lsam"
    first.write_bytes(b"one")
    a = set_aside(first, "damaged", now=now)
    first.write_bytes(b"two")
    b = set_aside(first, "damaged again", now=now)
    assert (a.name, b.name) == (
        "m.lsam.corrupt-20261206T150405Z",
        "m.lsam.corrupt-20261206T150405Z-2",
    )
    assert (a.read_bytes(), b.read_bytes()) == (b"one", b"two")
    assert "damaged again" in b.with_name(b.name + ".reason.txt").read_text(encoding="utf-8")
    assert not first.exists()


# ---- 2. files get the camera's privacy masks, as frames do at acquisition ------------------------


def test_train_from_files_masks_the_label_reference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], good_frames: list[np.ndarray]
):
    label_roi = load_recipe(demo_recipe()).tools[2].region()
    cx, cy = find_label(good_frames[0], label_roi).centre
    square = [[cx + 40, cy + 20], [cx + 90, cy + 20], [cx + 90, cy + 70], [cx + 40, cy + 70]]
    doc = demo_with_tools("label")
    doc["cameras"][0]["privacy_masks"] = [square]
    recipe_file = tmp_path / "masked.yaml"
    recipe_file.write_text(yaml.safe_dump(doc))
    folder = tmp_path / "good"
    write_frames(folder, good_frames[:1])
    assert not (good_frames[0] == 0).any()  # so every 0 below comes from the mask

    rc, data, err = run_cli(
        capsys,
        "train",
        "--recipe",
        str(recipe_file),
        "--tool",
        "label",
        "--good",
        str(folder),
        "--json",
    )

    assert rc == 0, err
    reference = cv2.imread(data["written"], cv2.IMREAD_GRAYSCALE)
    h, w = reference.shape
    # the 50 × 50 px square, a little to the right of and below the label's centre
    assert (reference == 0).sum() >= 2000
    assert reference[h // 2 + 45, w // 2 + 65] == 0


def test_defect_tool_taught_from_files_learns_the_masked_image(
    tmp_path: Path, good_frames: list[np.ndarray]
):
    square = [[500, 620], [700, 620], [700, 760], [500, 760]]  # inside the ROI (230, 585, 820×205)
    masked_recipe = surface_recipe(masks=[square], align="none", tile_px=None)
    plain_recipe = surface_recipe(align="none", tile_px=None)
    paths = user_paths().ensure()
    files = write_frames(tmp_path / "good", good_frames[:5])
    mask = PrivacyMask([square])
    masked_frames = [mask.apply(f.copy()) for f in good_frames[:5]]
    sha = load_manifest(backbone_manifest_path()).sha256

    def bank(recipe: Any, images: list[Any], name: str) -> np.ndarray:
        target = tmp_path / name
        teaching.teach_anomaly(recipe, "surface", paths, images, target=target)
        return load_model(target, sha).bank

    from_files = bank(masked_recipe, files, "files.lsam")
    from_masked_frames = bank(plain_recipe, masked_frames, "masked.lsam")
    from_unmasked_frames = bank(plain_recipe, list(good_frames[:5]), "unmasked.lsam")
    assert np.array_equal(from_files, from_masked_frames)
    assert not np.array_equal(from_files, from_unmasked_frames)


# ---- 3. an ROI that does not fit an image is refused, the images named ---------------------------


def test_images_the_roi_does_not_fit_are_refused_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], good_frames: list[np.ndarray]
):
    folder = tmp_path / "mixed"
    write_frames(folder, good_frames[:5])
    small = folder / "small.png"  # ROI (230, 585, 820×205) lies wholly outside it
    cv2.imwrite(str(small), cv2.resize(good_frames[0], (640, 480)))
    narrow = folder / "narrow.png"  # the ROI's right end (x 1050) is cut off
    cv2.imwrite(str(narrow), good_frames[1][:, :1000])
    recipe = surface_recipe(align="none", tile_px=None)
    paths = user_paths().ensure()
    target = tmp_path / "surface.lsam"

    with pytest.raises(RecipeError) as refused:
        teaching.teach_anomaly(recipe, "surface", paths, sorted(folder.iterdir()), target=target)
    message = str(refused.value)
    assert "small.png (640×480 px)" in message and "narrow.png (1000×1024 px)" in message
    assert "2 of the images" in message and "good00.png" not in message
    assert not target.exists()

    # the demo's aligned ROI moves with the part: only the image it misses altogether is refused
    demo_file = tmp_path / "demo.yaml"
    demo_file.write_text(yaml.safe_dump(demo_with_tools("anomaly")))
    rc, _, err = run_cli(
        capsys, "train", "--recipe", str(demo_file), "--tool", "surface", "--good", str(folder)
    )
    assert rc == 2
    assert "small.png (640×480 px)" in err and "narrow.png" not in err
    assert not (paths.models / "demo" / "surface.lsam").exists()


# ---- 4. absurd image sizes are refused at the edge, naming the file ------------------------------


def test_an_absurdly_large_image_file_is_refused_unread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    (tmp_path / "good").mkdir()
    huge = png_header_only(tmp_path / "good" / "huge.png", 20000, 20000)
    big = png_header_only(tmp_path / "big.png", 8000, 8000)
    with pytest.raises(
        SourceError,
        match=r"huge\.png: image is 20000×20000 px \(400\.0 MP\), above the limit of 50 MP",
    ):
        read_image(huge)
    with pytest.raises(
        SourceError, match=r"big\.png: image is 8000×8000 px \(64\.0 MP\), above the limit of 50 MP"
    ):
        read_image(big)
    # a label taught from it: refused, naming the file and the limit
    rc, _, err = run_cli(capsys, "train", "--tool", "label", "--good", str(huge.parent))
    assert rc != 0 and "huge.png" in err and "50 MP" in err


def test_eval_and_folder_cameras_refuse_an_absurd_image_by_name(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    from inspection.evaluation.codes import evaluate_codes
    from inspection.inference.anomaly.fit import read_image as read_for_fit
    from inspection.recipe import FolderSourceSettings
    from inspection.sources.base import BadFrameError
    from inspection.sources.folder import FolderSource

    folder = tmp_path / "codes"
    folder.mkdir()
    huge = png_header_only(folder / "huge.png", 20000, 20000)
    (folder / "huge.txt").write_text("SN-1")

    with caplog.at_level("WARNING"):
        report = evaluate_codes(folder)
    assert report["unreadable_files"] == ["huge.png"]
    assert "huge.png: image is 20000×20000 px (400.0 MP), above the limit of 50 MP" in caplog.text

    with pytest.raises(ValueError, match=r"20000×20000 px \(400\.0 MP\), above the limit of 50 MP"):
        read_for_fit(huge)  # eval anomaly's reader

    source = FolderSource(FolderSourceSettings(type="folder", path=folder), "cam1")
    source.open()
    try:
        with pytest.raises(
            BadFrameError, match=r"huge\.png: image is 20000×20000 px \(400\.0 MP\)"
        ):
            source.read(1.0)
    finally:
        source.close()
