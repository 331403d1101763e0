"""Fuzzed image files and frames: a bad image is refused with a reason, never decoded into
nonsense, and a part made from one is ERROR, never PASS, with no exception escaping.

Inputs: random bytes, and real PNG/JPEG/BMP/TIFF/PGM files (encoded with OpenCV from generated
pixels of several shapes and depths) with bits flipped, bytes cut or inserted, the file
truncated, or the PNG header's size rewritten (with a valid checksum). They go through
``read_image`` and the folder camera, and random arrays go through the code tool.
"""

from __future__ import annotations

import contextlib
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.fuzz_support import BYTE_DAMAGES, damage_bytes, fuzz_settings, outcome
from support.pipeline_tools import Collector

from inspection.errors import SourceError
from inspection.pipeline.station import Station
from inspection.recipe import FolderSourceSettings, parse_recipe
from inspection.recipe.tools import CodeToolSettings
from inspection.sources.base import BadFrameError
from inspection.sources.folder import FolderSource, read_image
from inspection.tools.base import image_problem, run_guarded
from inspection.tools.registry import build_tool
from inspection.types import Frame, Verdict

FUZZ = fuzz_settings()
# Pillow warns about the damage it reads past (corrupt EXIF, oversized tags): expected here
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
SUFFIXES = [".png", ".jpg", ".bmp", ".tiff", ".pgm"]


@st.composite
def pixels(draw: st.DrawFn) -> np.ndarray:
    h = draw(st.integers(min_value=1, max_value=48))
    w = draw(st.integers(min_value=1, max_value=48))
    channels = draw(st.sampled_from([None, 1, 2, 3, 4]))
    dtype = draw(st.sampled_from([np.uint8, np.uint16, np.float32]))
    shape = (h, w) if channels is None else (h, w, channels)
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    rng = np.random.default_rng(seed)
    if dtype is np.float32:
        return rng.random(shape, dtype=np.float32)
    return rng.integers(0, np.iinfo(dtype).max, size=shape, dtype=dtype)


def _png_with_size(data: bytes, width: int, height: int) -> bytes:
    """The PNG with its IHDR size rewritten and the chunk's CRC made right again."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return data
    body = b"IHDR" + struct.pack(">II", width, height) + data[24:29]
    return data[:8] + data[8:12] + body + struct.pack(">I", zlib.crc32(body)) + data[33:]


@st.composite
def image_file(draw: st.DrawFn) -> tuple[str, bytes]:
    """(suffix, bytes): random bytes, or an encoded image damaged a few ways."""
    suffix = draw(st.sampled_from(SUFFIXES))
    if draw(st.integers(min_value=0, max_value=4)) == 0:
        return suffix, draw(st.binary(max_size=2048))
    image = draw(pixels())
    ok, buf = False, None
    with contextlib.suppress(cv2.error):  # a depth or channel count this format cannot hold
        ok, buf = cv2.imencode(suffix, image)
    if not ok or buf is None:
        ok, buf = cv2.imencode(".png", np.zeros((16, 16), np.uint8))
        suffix = ".png"
    data = bytearray(buf.tobytes())
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        how = draw(st.sampled_from([*BYTE_DAMAGES, "png_size"]))
        i = draw(st.integers(min_value=0, max_value=max(len(data) - 1, 0)))
        if damage_bytes(draw, data, how, i, cut_max=64, insert_max=16):
            continue
        if how == "png_size":
            # 5000² fits the 50 MP limit (decoded, then found broken); the others do not
            size = draw(st.sampled_from([0, 1, 5000, 70_000, 2**31 - 1]))
            other = draw(st.sampled_from([1, 5000, 2**31 - 1]))
            data = bytearray(_png_with_size(bytes(data), size, other))
    return suffix, bytes(data)


def _good_frame_image(image: np.ndarray) -> bool:
    return (
        image.dtype == np.uint8
        and image.flags.c_contiguous
        and (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3))
    )


@FUZZ
@given(case=image_file())
def test_read_image_decodes_or_refuses_naming_the_file(
    case: tuple[str, bytes], tmp_path: Path
) -> None:
    suffix, data = case
    path = tmp_path / f"part{suffix}"
    path.write_bytes(data)
    try:
        image = read_image(path)
    except SourceError as exc:
        outcome("refused")
        assert str(path) in str(exc) and len(str(exc)) > len(str(path)) + 5
        return
    outcome("decoded")
    assert _good_frame_image(image), f"{image.dtype} {image.shape} from {suffix}"


@FUZZ
@given(case=image_file())
def test_the_folder_camera_gives_a_frame_or_a_bad_frame_with_a_reason(
    case: tuple[str, bytes], tmp_path: Path
) -> None:
    suffix, data = case
    folder = tmp_path / "cam"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    (folder / f"part{suffix}").write_bytes(data)
    source = FolderSource(FolderSourceSettings(type="folder", path=folder), camera="cam1")
    source.open()
    try:
        frame = source.read(1.0)
    except BadFrameError as exc:
        outcome("bad frame")
        assert f"part{suffix}" in str(exc)
        return
    finally:
        source.close()
    outcome("frame")
    assert frame is not None and _good_frame_image(frame.image)
    assert source.read(0.1) is None  # one file, one part


@pytest.fixture(scope="module")
def code_tool():  # type: ignore[no-untyped-def]
    # the demo's code tool: two codes matching the serial pattern, or the part fails
    settings = CodeToolSettings(
        id="serial",
        type="codes",
        formats=["DataMatrix", "Code128"],
        expected=r"^SN-\d{4}-\d{6}$",
        min_count=2,
        unique=True,
        time_budget_ms=150,
    )
    tool = build_tool(settings, "cam1")
    yield tool
    tool.close()


@st.composite
def arrays(draw: st.DrawFn) -> np.ndarray:
    dtype = draw(
        st.sampled_from([np.uint8] * 4 + [np.uint16, np.int8, np.float32, np.float64, bool])
    )
    ndim = draw(st.sampled_from([1, 2, 2, 3, 3, 4]))
    dims = [draw(st.integers(min_value=0, max_value=300)) for _ in range(min(ndim, 2))]
    if ndim >= 3:
        dims.append(draw(st.sampled_from([0, 1, 2, 3, 4])))
    if ndim == 4:
        dims.append(draw(st.integers(min_value=1, max_value=3)))
    rng = np.random.default_rng(draw(st.integers(min_value=0, max_value=2**32 - 1)))
    fill = draw(st.sampled_from(["noise", "flat", "stripes"]))
    a = rng.random(dims) * 255 if fill == "noise" else np.full(dims, draw(st.integers(0, 255)))
    if fill == "stripes" and a.ndim >= 2 and a.shape[1]:
        a[:, ::3] = 0
    arr = a.astype(dtype)
    if draw(st.booleans()) and arr.ndim >= 2:
        arr = arr[:, ::-1]  # not C-contiguous
    return arr


@FUZZ
@given(image=arrays())
def test_the_code_tool_never_passes_or_escapes_on_random_frames(code_tool, image) -> None:  # type: ignore[no-untyped-def]
    frame = Frame(camera="cam1", seq=0, t_ns=0, image=image)
    result = run_guarded(code_tool, frame)
    outcome(result.verdict.name)
    assert result.verdict is not Verdict.PASS  # noise, flat or stripes carry no serial codes
    assert result.reason
    if image_problem(image) is not None:
        assert result.verdict is Verdict.ERROR and "bad frame" in result.reason
    else:
        # a usable frame is judged by the tool itself, not rescued from an exception by the guard
        assert not result.reason.startswith("tool failed"), result.reason


@fuzz_settings(examples=15)
@given(cases=st.lists(image_file(), min_size=1, max_size=4))
def test_parts_from_fuzzed_files_on_the_real_station_are_never_passed(
    cases: list[tuple[str, bytes]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("line")
    names = []
    for i, (suffix, data) in enumerate(cases):
        names.append(f"part{i:02d}{suffix}")
        (folder / names[-1]).write_bytes(data)
    recipe = parse_recipe(
        {
            "name": "fuzzed-files",
            "cameras": [{"id": "cam1", "source": {"type": "folder", "path": str(folder)}}],
            "tools": [
                {
                    "id": "serial",
                    "type": "codes",
                    "formats": ["DataMatrix", "Code128"],
                    "expected": r"^SN-\d{4}-\d{6}$",
                    "min_count": 2,
                }
            ],
        },
        "fuzz",
    )
    station = Station(recipe, store_results=False)
    collector = Collector()
    station.add_listener(collector)
    station.start()
    try:
        assert station.wait_finished(60.0), "the station did not get through the files"
    finally:
        station.stop()
    parts = collector.inspections
    assert len(parts) == len(names)
    for part, name in zip(parts, names, strict=True):
        outcome(part.verdict.name)
        assert part.verdict is not Verdict.PASS and part.reason
        try:
            read_image(folder / name)
        except SourceError:
            assert part.verdict is Verdict.ERROR and name in part.reason, part.reason


@pytest.fixture(scope="module")
def defect_tool(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The defect tool with a model of random good-part features (the shipped backbone's size):
    what it finds means nothing, but every frame goes through the real scoring."""
    from inspection.inference.anomaly.model import AnomalyModel
    from inspection.inference.anomaly.model_file import FEATURE_DIMS, save_model
    from inspection.inference.anomaly.settings import AnomalySettings
    from inspection.inference.manifest import backbone_manifest_path, load_manifest
    from inspection.recipe.tools import AnomalyToolSettings

    rng = np.random.default_rng(1)
    dims = 16
    model = AnomalyModel(
        settings=AnomalySettings(feature_dims=dims, long_side=128, sizes="mixed", scale=0.25),
        bank=rng.random((64, dims), dtype=np.float32),
        projection=rng.random((FEATURE_DIMS, dims), dtype=np.float32),
        image_size=(64, 64),
        backbone_sha256=load_manifest(backbone_manifest_path()).sha256,
        score_scale=1.0,
        threshold=3.0,
    )
    path = tmp_path_factory.mktemp("model") / "surface.lsam"
    save_model(model, path)
    tool = build_tool(AnomalyToolSettings(id="surface", type="anomaly", model=path), "cam1")
    yield tool
    tool.close()


@FUZZ
@given(image=arrays())
def test_the_defect_tool_never_escapes_on_random_frames(defect_tool, image) -> None:  # type: ignore[no-untyped-def]
    frame = Frame(camera="cam1", seq=0, t_ns=0, image=image)
    result = run_guarded(defect_tool, frame)
    outcome(result.verdict.name)
    if image_problem(image) is not None:
        assert result.verdict is Verdict.ERROR and "bad frame" in result.reason
    else:
        assert not result.reason.startswith("tool failed"), result.reason
