"""GenTL source against a real producer: the virtual camera ``viky.cti`` the genicam wheel ships.

viky runs inside this process, so it cannot be killed from outside like the GigE fake camera; it
has Mono8 and RGBa8, Width/Height/AcquisitionFrameRate, and no trigger, exposure or gain features.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inspection.errors import SourceError
from inspection.recipe import GenTLSourceSettings
from inspection.sources.gentl import GenTLCamera, list_gentl_cameras

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def viky() -> Path:
    try:
        import genicam
    except ImportError:
        pytest.fail("GenTL tests need the genicam and harvesters pip packages", pytrace=False)
    path = Path(genicam.__file__).parent / "viky.cti"
    if not path.is_file():
        pytest.fail(f"the genicam wheel no longer ships viky.cti (looked at {path})", pytrace=False)
    return path


def settings(producer: Path, **changes: object) -> GenTLSourceSettings:
    values: dict[str, object] = {"type": "gentl", "producer": producer, "serial_number": "1"}
    values.update(changes)
    return GenTLSourceSettings.model_validate(values)


def test_producer_lists_its_cameras(viky: Path) -> None:
    found = list_gentl_cameras(viky)
    assert [(c.serial, c.model, c.vendor) for c in found] == [
        ("0", "Viky", "Machine Vision Games Ltd."),
        ("1", "Viky", "Machine Vision Games Ltd."),
        ("2", "Viky", "Machine Vision Games Ltd."),
    ]
    assert found[1].device_id == "VikyTL_DEV_green"


def test_mono8_frames_have_the_size_set_and_count_on(viky: Path) -> None:
    source = GenTLCamera(settings(viky, pixel_format="Mono8", width=320, height=240))
    source.open()
    try:
        assert source.live
        frames = [source.read(2.0) for _ in range(3)]
    finally:
        source.close()
        source.close()
    for f in frames:
        assert f.image.dtype == np.uint8 and f.image.shape == (240, 320)
        assert f.image.flags.c_contiguous and f.trigger_id is None
    assert [f.seq for f in frames] == [frames[0].seq, frames[0].seq + 1, frames[0].seq + 2]
    # reopening continues the count
    source.open()
    try:
        assert source.read(2.0).seq > frames[-1].seq
    finally:
        source.close()


def test_rgba8_in_colour_is_bgr_and_in_grey_is_its_luminance(viky: Path) -> None:
    colour = GenTLCamera(settings(viky, pixel_format="RGBa8", color=True))
    colour.open()
    try:
        image = colour.read(2.0).image
    finally:
        colour.close()
    assert image.shape == (400, 400, 3)
    # the green camera draws green on white: the ball is where blue and red drop, green stays up
    ball = (image[:, :, 0] < 128) & (image[:, :, 2] < 128)
    assert ball.any() and (image[ball][:, 1] > 128).all()


def test_unsupported_pixel_format_lists_the_cameras_formats(viky: Path) -> None:
    source = GenTLCamera(settings(viky, pixel_format="BayerRG8"))
    with pytest.raises(SourceError) as info:
        source.open()
    assert "PixelFormat 'BayerRG8'" in str(info.value)
    assert "RGBa8, Mono8" in str(info.value)


def test_trigger_the_camera_lacks_is_refused_by_name(viky: Path) -> None:
    source = GenTLCamera(settings(viky, trigger="software"))
    with pytest.raises(SourceError, match=r"trigger 'software'.*no TriggerMode"):
        source.open()
    source = GenTLCamera(settings(viky, exposure_us=500.0))
    with pytest.raises(SourceError, match=r"exposure_us 500.*ExposureTime"):
        source.open()


def test_unknown_serial_is_named(viky: Path) -> None:
    source = GenTLCamera(settings(viky, serial_number="X99"), camera="cam3")
    with pytest.raises(SourceError) as info:
        source.open()
    assert "cam3" in str(info.value) and "'X99'" in str(info.value)
    assert "VikyTL_DEV_red" in str(info.value)


def test_a_file_that_is_not_a_producer_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "vendor.cti"
    text.write_text("not a producer")
    with pytest.raises(SourceError, match="not a loadable GenTL producer"):
        GenTLCamera(settings(text)).open()
    missing = tmp_path / "nowhere.cti"
    with pytest.raises(SourceError, match=r"nowhere\.cti does not exist"):
        GenTLCamera(settings(missing)).open()
