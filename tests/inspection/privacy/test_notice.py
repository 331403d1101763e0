"""The notice's facts from a recipe with privacy masks and the station's settings."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest
from support.privacy_recipe import GREY, HEIGHT, MASK_1, MASK_2, WIDTH, write_masked_recipe

from inspection.paths import demo_recipe, user_paths
from inspection.privacy import NO_FRAME, NOTHING_LEAVES, build_notice, recipe_in_use
from inspection.privacy.notice import configured_outputs, user_accounts_exist
from inspection.privacy.pictures import FALLBACK_SIZE, OUTLINE_BGR
from inspection.recipe import MqttOutputSettings, load_recipe
from inspection.recipe.station import ReportExportSettings, StationSettings


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _text(notice) -> str:
    return "\n".join(f"{s.heading}\n" + "\n".join(s.sentences) for s in notice.sections())


def test_masks_are_listed_and_blacked_out_on_the_cameras_picture(tmp_path: Path) -> None:
    recipe = load_recipe(write_masked_recipe(tmp_path))
    notice = build_notice(recipe, StationSettings(line="Line 4"), user_paths(), timeout_s=5.0)

    (cam,) = notice.cameras
    assert cam.camera == "door" and cam.kind == "pictures read from a folder"
    assert [m.number for m in cam.masks] == [1, 2]
    assert [len(m.corners) for m in cam.masks] == [4, 3]
    assert cam.masks[0].share == pytest.approx(101 * 61 / (WIDTH * HEIGHT), rel=0.02)
    picture = cam.picture
    assert picture.from_camera and picture.size == (WIDTH, HEIGHT)
    image = picture.image
    assert image.shape == (HEIGHT, WIDTH, 3) and image.dtype == np.uint8
    assert (image[20, 20] == 0).all(), "inside mask 1 (away from its number): black"
    assert (image[155, 215] == 0).all(), "inside mask 2: black"
    assert (image[150, 60] == GREY).all(), "outside every mask: the camera's own picture"
    assert (image[10, 60] == OUTLINE_BGR).all(), "mask 1's outline"

    text = _text(notice)
    assert "Camera door" in text and "2 masked areas" in text
    assert "area 1 (4 corners, 8 % of the picture)" in text
    assert notice.subtitle == "Station packing-2 · line Line 4 · recipe masked version 3"


def test_a_camera_that_does_not_answer_gets_its_masks_on_a_blank_frame(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/video.mjpg"
    camera = f"""  - id: gate
    source:
      type: http
      url: http://viewer:secret@127.0.0.1:{url.split(":")[2]}
      timeout_s: 0.5
    privacy_masks:
      - [[700, 500], [800, 500], [800, 600]]
"""
    recipe = load_recipe(write_masked_recipe(tmp_path, second_camera=camera))
    notice = build_notice(recipe, StationSettings(), user_paths(), timeout_s=1.0)

    gate = notice.cameras[1]
    assert not gate.picture.from_camera
    assert gate.picture.note.startswith(NO_FRAME)
    # no size in the recipe: the blank frame holds the mask
    assert gate.picture.size == (801, 601)
    assert (gate.picture.image[504, 796] == 0).all() and (gate.picture.image[10, 10] == 200).all()
    assert "secret" not in gate.where and "viewer:***@127.0.0.1" in gate.where
    assert notice.cameras[0].picture.from_camera


def test_without_cameras_the_recipes_size_is_drawn_blank(tmp_path: Path) -> None:
    recipe = load_recipe(demo_recipe())
    cam = recipe.cameras[0].model_copy(update={"privacy_masks": [MASK_1, MASK_2]})
    recipe = recipe.model_copy(update={"cameras": [cam]})
    notice = build_notice(recipe, StationSettings(), user_paths(), use_cameras=False)
    picture = notice.cameras[0].picture
    assert picture.size == (1280, 1024) and not picture.from_camera
    assert picture.note.startswith(NO_FRAME)
    first, second = notice.cameras[0].masks
    assert first.share == pytest.approx(101 * 61 / (1280 * 1024), rel=0.02)
    # a triangle of base 100 and height 80 (plus its edge pixels)
    assert second.share == pytest.approx(4000 / (1280 * 1024), rel=0.1)


def test_a_frame_at_hand_is_used_and_masked_again(tmp_path: Path) -> None:
    recipe = load_recipe(write_masked_recipe(tmp_path))
    frame = np.full((HEIGHT, WIDTH, 3), 250, dtype=np.uint8)
    notice = build_notice(
        recipe, StationSettings(), user_paths(), frames={"door": frame}, use_cameras=False
    )
    picture = notice.cameras[0].picture
    assert picture.from_camera
    assert (picture.image[20, 20] == 0).all() and (picture.image[150, 60] == 250).all()
    assert (frame == 250).all(), "the station's frame is not drawn on"


def test_what_is_kept_follows_the_recipes_archive_settings(tmp_path: Path) -> None:
    recipe = load_recipe(
        write_masked_recipe(
            tmp_path,
            extra="archive:\n  pass_every: 10\n  roi_crops_only: true\n  retention_days: 7\n",
        )
    )
    paths = user_paths()
    notice = build_notice(recipe, StationSettings(), paths, use_cameras=False)
    storage = notice.sections()[1]
    assert storage.heading == "What is stored and for how long"
    text = "\n".join(storage.sentences)
    assert "every failed part (FAIL or ERROR) and 1 in 10 passed parts" in text
    assert "only the checked areas of the picture (crops)" in text
    assert f"{paths.archive} on this machine for 7 days" in text
    assert str(paths.results_db) in text

    none_kept = recipe.model_copy(
        update={"archive": recipe.archive.model_copy(update={"failed": False, "pass_every": 0})}
    )
    text = "\n".join(
        build_notice(none_kept, StationSettings(), paths, use_cameras=False).sections()[1].sentences
    )
    assert "Pictures: none are kept." in text and "days" not in text


def test_nothing_leaves_unless_an_output_or_a_report_folder_is_configured(tmp_path: Path) -> None:
    recipe = load_recipe(write_masked_recipe(tmp_path))
    alone = build_notice(recipe, StationSettings(), user_paths(), use_cameras=False)
    assert alone.outputs == ()
    assert NOTHING_LEAVES in alone.sections()[2].sentences

    settings = StationSettings(
        reports=ReportExportSettings(folder=tmp_path / "share", formats=("pdf",))
    )
    shared = build_notice(recipe, settings, user_paths(), use_cameras=False)
    (output,) = shared.outputs
    assert str(tmp_path / "share") in output.where and "(pdf)" in output.what
    sentences = shared.sections()[2].sentences
    assert NOTHING_LEAVES not in sentences and any("shift report" in s for s in sentences)


def test_a_recipes_mqtt_output_is_named_with_its_broker_and_topics(tmp_path: Path) -> None:
    base = load_recipe(write_masked_recipe(tmp_path))
    mqtt = MqttOutputSettings(
        type="mqtt",
        host="broker.local",
        site="plant-a",
        line="line4",
        username="plant",
        password="pw",
    )
    recipe = base.model_copy(update={"outputs": [mqtt]})
    (output,) = configured_outputs(recipe, StationSettings())
    assert "mqtt output" in output.what
    assert "host broker.local" in output.where and "port 1883" in output.where
    assert f"plant-a/line4/{recipe.station}/result" in output.where
    assert "pw" not in output.where  # never the password
    notice = build_notice(recipe, StationSettings(), user_paths(), use_cameras=False)
    assert NOTHING_LEAVES not in notice.sections()[2].sentences


def test_who_sees_what_and_what_never_happens_are_stated(tmp_path: Path) -> None:
    # a tripwire: when user accounts arrive, this notice must list their roles (not guess them)
    assert not user_accounts_exist()
    recipe = load_recipe(write_masked_recipe(tmp_path))
    sections = build_notice(recipe, StationSettings(), user_paths(), use_cameras=False).sections()
    access, never = sections[3], sections[4]
    assert access.heading == "Who can see what"
    assert (
        "no user accounts yet: every screen is open to whoever is at the station"
        in (access.sentences[0])
    )
    assert never.heading == "What this software never does"
    assert "No face recognition" in never.sentences[0]
    assert "No figure per person" in never.sentences[1]


def test_the_recipe_in_use_is_the_one_the_app_opened_last(tmp_path: Path) -> None:
    paths = user_paths().ensure()
    assert recipe_in_use(paths) == demo_recipe()
    mine = write_masked_recipe(tmp_path)
    paths.settings_file.write_text(json.dumps({"last_recipe": str(mine)}), encoding="utf-8")
    assert recipe_in_use(paths) == mine
    mine.unlink()
    assert recipe_in_use(paths) == demo_recipe(), "a recipe gone since: the demo, as the app does"
    paths.settings_file.write_text("{not json", encoding="utf-8")
    assert recipe_in_use(paths) == demo_recipe()


def test_fallback_size_without_masks_or_recipe_size(tmp_path: Path) -> None:
    recipe = load_recipe(write_masked_recipe(tmp_path))
    cam = recipe.cameras[0].model_copy(update={"privacy_masks": []})
    recipe = recipe.model_copy(update={"cameras": [cam]})
    notice = build_notice(recipe, StationSettings(), user_paths(), use_cameras=False)
    assert notice.cameras[0].picture.size == FALLBACK_SIZE
    assert "No masked areas: the whole picture is used." in notice.sections()[0].sentences[1]
