"""The presence trigger: one part per part passing the strip, on the frame where it is centred."""

from __future__ import annotations

import numpy as np
import pytest

from inspection.pipeline.presence import PresenceDetector, learn_level
from inspection.pipeline.triggers import Presence
from inspection.recipe import PresenceTrigger, SyntheticSourceSettings
from inspection.sources.synthetic import SyntheticLine
from inspection.types import Frame

STRIP = {"x": 600, "y": 260, "w": 80, "h": 200}


def belt(rng: np.random.Generator) -> np.ndarray:
    return rng.normal(80, 12, size=(200, 320)).clip(0, 255).astype(np.uint8)


def test_a_textured_belt_alone_teaches_no_level_and_belt_plus_parts_do():
    rng = np.random.default_rng(0)
    only_belt = [belt(rng) for _ in range(10)]
    assert learn_level(only_belt, min_contrast=30) is None
    with_part = only_belt + [np.full((200, 320), 190, np.uint8)] * 4
    level = learn_level(with_part, min_contrast=30)
    assert level is not None and 90 < level < 190


def conveyor(n_frames: int, part_every: int, part_len: int, width: int = 320) -> list[np.ndarray]:
    """A bright part (``part_len`` frames long) sliding through a 40 px wide strip at x=140."""
    rng = np.random.default_rng(1)
    out = []
    for i in range(n_frames):
        img = belt(rng)
        phase = i % part_every
        if phase < part_len:
            # the part's left edge moves 40 px per frame from off-screen left
            left = -200 + 40 * phase
            img[20:180, max(left, 0) : max(left + 240, 0)] = 190
        out.append(img)
    return out


def test_each_passing_part_is_reported_once_at_its_middle_frame():
    s = PresenceTrigger(type="presence", roi={"x": 140, "y": 0, "w": 40, "h": 200}, learn_frames=20)
    det = PresenceDetector(s)
    events = []
    for i, img in enumerate(conveyor(200, part_every=25, part_len=15)):
        events += det.update(i, img)
    # 30 % of the strip x=140..180 is covered at phases 3..9 of each 25-frame cycle
    assert len(events) == 8
    for k, e in enumerate(events):
        assert (e.first, e.last) == (25 * k + 3, 25 * k + 9)
        assert e.best == (e.first + e.last) // 2
        assert not e.timed_out
    # the first part passed while the level was still being learnt, and is not lost
    assert events[0].first < 20


def test_debounce_ignores_a_one_frame_flash():
    s = PresenceTrigger(type="presence", roi={"x": 0, "y": 0, "w": 320, "h": 200}, level=140)
    det = PresenceDetector(s)
    rng = np.random.default_rng(2)
    events = []
    for i in range(30):
        img = belt(rng)
        if i == 10:
            img[:] = 250  # a reflection for one frame
        events += det.update(i, img)
    assert events == [] and not det.present


def test_a_part_that_never_leaves_is_inspected_once_after_max_frames():
    s = PresenceTrigger(
        type="presence", roi={"x": 0, "y": 0, "w": 320, "h": 200}, level=140, max_frames=10
    )
    det = PresenceDetector(s)
    events = []
    for i in range(50):
        events += det.update(i, np.full((200, 320), 200, np.uint8))
    assert len(events) == 1 and events[0].timed_out


@pytest.mark.parametrize("seed", [3, 11])
def test_simulated_conveyor_gives_exactly_one_centred_part_each(seed: int):
    n = 25
    line = SyntheticLine(
        SyntheticSourceSettings(
            type="synthetic", mode="video", seed=seed, width=1280, height=720, parts=n
        ),
        camera="cam1",
    )
    line.open()
    trigger = Presence(PresenceTrigger(type="presence", roi=STRIP), ["cam1"], "cam1")
    seen: list[int] = []
    while (frame := line.read(1.0)) is not None:
        for part in trigger.on_frame("cam1", frame):
            chosen: Frame = part.frames["cam1"]
            assert chosen.truth is not None, "the chosen frame shows the whole part"
            seen.append(chosen.truth.part_index)
    line.close()
    assert seen == list(range(n))


def test_other_cameras_give_their_frame_nearest_the_moment():
    s = PresenceTrigger(type="presence", roi={"x": 0, "y": 0, "w": 320, "h": 200}, level=140)
    trig = Presence(s, ["top", "side"], "top")
    parts = []
    for i in range(20):
        t = 1_000_000_000 + i * 40_000_000
        side = Frame(camera="side", seq=i, t_ns=t + 1_000_000, image=np.zeros((4, 4), np.uint8))
        trig.on_frame("side", side)
        img = np.full((200, 320), 200 if 5 <= i < 12 else 60, np.uint8)
        parts += trig.on_frame("top", Frame(camera="top", seq=i, t_ns=t, image=img))
    assert len(parts) == 1
    p = parts[0]
    assert p.frames["top"].seq == 8  # frames 5..11 covered: the middle one
    assert p.frames["side"].seq == 8 and not p.errors


def test_a_second_camera_without_frames_leaves_the_part_an_error():
    s = PresenceTrigger(type="presence", roi={"x": 0, "y": 0, "w": 320, "h": 200}, level=140)
    trig = Presence(s, ["top", "side"], "top")
    parts = []
    for i in range(20):
        img = np.full((200, 320), 200 if 5 <= i < 12 else 60, np.uint8)
        frame = Frame(camera="top", seq=i, t_ns=1_000_000_000 + i * 40_000_000, image=img)
        parts += trig.on_frame("top", frame)
    assert len(parts) == 1
    assert parts[0].errors == {"side": "no frame from camera side near the part's moment"}
