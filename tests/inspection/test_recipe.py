"""Recipes: the demo loads; broken ones are refused with file, field path and reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspection.errors import RecipeError
from inspection.paths import demo_recipe
from inspection.recipe import Recipe, dump_recipe, load_recipe, parse_recipe


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "r.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_demo_recipe_loads_and_round_trips(tmp_path: Path):
    r = load_recipe(demo_recipe())
    assert r.name == "demo" and r.tools[0].type == "codes"
    assert r.cameras[0].source.type == "synthetic"
    again = load_recipe(write(tmp_path, dump_recipe(r)))
    assert again == r


@pytest.mark.parametrize(
    "text, expected",
    [
        ("name: x\ncameras: []\n", "r.yaml: cameras: List should have at least 1 item"),
        (
            "name: x\ncameras:\n  - id: c\n    source: {type: synthetic, sed: 3}\n",
            "r.yaml: cameras[0].source.sed: Extra inputs are not permitted",
        ),
        (
            "name: x\ncameras:\n  - id: c\n    source: {type: webcam}\n",
            "r.yaml: cameras[0].source: Input tag 'webcam' found using 'type' does not match",
        ),
        (
            "name: x\ncameras:\n  - id: c\n    source: {type: synthetic}\n"
            "tools:\n  - {id: t, type: codes, formats: [NotAFormat]}\n",
            "r.yaml: tools[0].formats: Value error, unknown code format 'NotAFormat'",
        ),
        (
            "name: x\ncameras:\n  - id: c\n    source: {type: synthetic}\n"
            "tools:\n  - {id: t, type: codes, formats: [QRCode], expected: '(unclosed'}\n",
            "r.yaml: tools[0].expected: Value error, not a valid regular expression",
        ),
        (
            "name: x\ncameras:\n  - id: c\n    source: {type: synthetic}\n"
            "tools:\n  - {id: t, type: codes, formats: [QRCode], camera: nope}\n",
            "tool 't' names camera 'nope'",
        ),
        (
            "name: x\ncameras:\n  - id: c\n    source: {type: folder, path: missing-dir}\n",
            "r.yaml: cameras[0].source.path: folder 'missing-dir' does not exist",
        ),
        (
            "name: x\ncameras:\n  - id: c\n    source: {type: rtsp, url: 'http://cam/live'}\n",
            "r.yaml: cameras[0].source.url: Value error, an RTSP camera's url starts with rtsp://",
        ),
        (
            "name: x\ncameras:\n  - id: c\n    source: {type: gige, trigger: software}\n",
            "camera(s) ['c'] take a frame on a software trigger, so the recipe's trigger must be "
            "type: software",
        ),
        (
            "name: x\ncameras:\n  - id: c\n    source: {type: synthetic, mode: video}\n"
            "trigger: {type: presence, camera: top, roi: {x: 0, y: 0, w: 10, h: 10}}\n",
            "the trigger names camera 'top'",
        ),
        (
            "name: x\ncameras:\n  - id: c\n    source: {type: synthetic, mode: video}\n"
            "trigger: {type: presence}\n",
            "r.yaml: trigger.roi: Field required",
        ),
        (
            "name: x\ncameras:\n  - id: c\n    source: {type: video, path: missing.mp4}\n",
            "r.yaml: cameras[0].source.path: file 'missing.mp4' does not exist",
        ),
        (
            "name: x\ncameras:\n  - id: c\n    source: {type: gentl, producer: none.cti}\n",
            "r.yaml: cameras[0].source.producer: file 'none.cti' does not exist",
        ),
        ("schema_version: 9\nname: x\n", "schema_version: 9 was written by a newer Lineside"),
        ("name: [unclosed\n", "r.yaml: line 2, column 1: not valid YAML"),
        ("- just\n- a list\n", "r.yaml: (top level): expected a mapping of fields, got list"),
    ],
)
def test_broken_recipes_name_file_field_and_reason(tmp_path: Path, text: str, expected: str):
    with pytest.raises(RecipeError) as err:
        load_recipe(write(tmp_path, text))
    assert expected in str(err.value)


def test_missing_and_unreadable_files(tmp_path: Path):
    with pytest.raises(RecipeError, match="no such recipe file"):
        load_recipe(tmp_path / "none.yaml")
    bad = tmp_path / "bin.yaml"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(RecipeError, match="cannot be read"):
        load_recipe(bad)


def test_every_camera_kind_round_trips(tmp_path: Path):
    (tmp_path / "line.mp4").write_bytes(b"")
    (tmp_path / "vendor.cti").write_bytes(b"")
    text = """
name: cams
cameras:
  - {id: a, source: {type: gige, device: 192.168.7.20, pixel_format: BayerRG8, color: true,
     exposure_us: 800, trigger: software}}
  - {id: b, source: {type: gentl, producer: vendor.cti, serial_number: "40012345"}}
  - {id: c, source: {type: rtsp, url: "rtsp://op:secret@10.1.1.9/stream1", transport: udp}}
  - {id: d, source: {type: http, url: "http://10.1.1.10/snap.jpg", mode: snapshot,
     auth: digest, username: op, password_env: CAM_PW}}
  - {id: e, source: {type: usb, device: /dev/video2, fourcc: MJPG, width: 1920, height: 1080}}
  - {id: f, source: {type: video, path: line.mp4, loop: true, real_time: true},
     health: {no_frame_periods: 10, frozen_frames: 0}}
trigger: {type: software, timeout_s: 0.5}
"""
    r = load_recipe(write(tmp_path, text))
    assert [c.source.type for c in r.cameras] == ["gige", "gentl", "rtsp", "http", "usb", "video"]
    assert r.cameras[1].source.producer == (tmp_path / "vendor.cti").resolve()  # type: ignore[union-attr]
    assert load_recipe(write(tmp_path, dump_recipe(r))) == r


def test_folder_path_is_relative_to_the_recipe(tmp_path: Path):
    (tmp_path / "imgs").mkdir()
    p = write(tmp_path, "name: x\ncameras:\n  - id: c\n    source: {type: folder, path: imgs}\n")
    r = load_recipe(p)
    assert r.cameras[0].source.path == (tmp_path / "imgs").resolve()


# Values of the kinds YAML can hold, nested: what an operator's hand-edited recipe might contain.
yaml_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
field_names = st.sampled_from(
    [
        "name",
        "version",
        "station",
        "cameras",
        "tools",
        "archive",
        "pipeline",
        "trigger",
        "schema_version",
        "source",
        "id",
        "type",
        "formats",
        "roi",
        "workers",
        "x",
    ]
)


def _mutate(base: dict, data: st.DataObject) -> dict:
    doc = yaml.safe_load(yaml.safe_dump(base))
    for _ in range(data.draw(st.integers(1, 4))):
        target = doc
        # walk into a random nested mapping, then set or delete a field
        for _depth in range(data.draw(st.integers(0, 3))):
            kids = [
                v
                for v in (target.values() if isinstance(target, dict) else target)
                if isinstance(v, dict | list) and v
            ]
            if not kids:
                break
            target = data.draw(st.sampled_from(kids))
        if isinstance(target, list):
            target.append(data.draw(yaml_values))
        elif data.draw(st.booleans()) and target:
            del target[data.draw(st.sampled_from(sorted(target, key=str)))]
        else:
            target[data.draw(field_names)] = data.draw(yaml_values)
    return doc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_recipes_are_accepted_or_refused_with_a_message(data: st.DataObject):
    base = yaml.safe_load(demo_recipe().read_text())
    doc = _mutate(base, data)
    try:
        r = parse_recipe(doc, "fuzz.yaml")
    except RecipeError as exc:
        msg = str(exc)
        assert msg.startswith("fuzz.yaml: ") and len(msg) > len("fuzz.yaml: ")
    else:
        assert isinstance(r, Recipe) and r.cameras
