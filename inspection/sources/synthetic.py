"""The built-in simulated production line: a seeded camera looking at packs on a conveyor.

Triggered mode gives one frame per part, centred; video mode runs free, the packs passing left to
right. Every frame carries the ground truth of its part, so the whole inspection chain can be
measured without a real line. Same seed, same frames, on every machine.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from inspection.errors import LinesideError, SourceError
from inspection.recipe import SIMULATED_DEFECTS, SyntheticSourceSettings
from inspection.sources.synthetic_pack import PackPrinter
from inspection.sources.synthetic_plan import MAX_POSE_ANGLE_DEG, Batch, LinePlan, part_rng
from inspection.sources.synthetic_render import (
    CODE_ZONE,
    LABEL_ZONE,
    NOISE_PAD,
    SURFACE_ZONE,
    Scene,
    Sprite,
    make_geometry,
)
from inspection.types import Frame, PartTruth, Region

log = logging.getLogger(__name__)

SOURCE_NAME = "synthetic"
# Random streams of whole frames (the plan's per-part streams use 0..6).
_TRIGGERED_FRAME, _VIDEO_FRAME, _SCENE = 10, 11, 12
_SMALLEST_LEGIBLE_WIDTH = 1000  # below this the printed codes' modules fall under ~2 px


class SyntheticLine:
    """The simulated line as a Source (see ``inspection.sources.base.Source``)."""

    def __init__(self, settings: SyntheticSourceSettings, camera: str = "cam1") -> None:
        if not isinstance(settings, SyntheticSourceSettings):
            raise SourceError(
                f"camera {camera!r}: the simulated line needs synthetic source settings, "
                f"got {type(settings).__name__}"
            )
        self.settings = settings
        self.camera = camera
        self.live = settings.mode == "video"
        self.plan = LinePlan(settings)
        self.geometry = make_geometry(settings.width, settings.height, settings.color)
        self._scene: Scene | None = None
        self._printer: PackPrinter | None = None
        self._opened = False
        self._seq = 0
        # Parts go on from here across close/open (a reconnect) and station restarts
        # (resume_after): a part, and its serial, is never made twice by one line.
        self._run_first = 0
        self._next_part = 0
        self._next_due = 0.0
        self._video = _Conveyor(self, 0)

    # ---- what the line makes ------------------------------------------------------------

    @property
    def batch(self) -> Batch:
        """The batch every part of this run belongs to (product, lot, expiry, serial range)."""
        return self.plan.batch

    def batch_info(self) -> dict[str, str]:
        """The batch as a line's MES would announce it (see sources.base.BatchAware)."""
        b = self.plan.batch
        return {"lot": b.lot, "product": b.product, "expiry": b.expiry}

    @property
    def label_region(self) -> Region:
        """Where labels sit (with any skew) in a triggered frame, before pose jitter."""
        return self.geometry.zone_in_frame(LABEL_ZONE)

    @property
    def code_region(self) -> Region:
        """Where the printed codes sit in a triggered frame, before pose jitter."""
        return self.geometry.zone_in_frame(CODE_ZONE)

    @property
    def surface_region(self) -> Region:
        """The only part of the pack where scratches, stains and dents occur (triggered frame)."""
        return self.geometry.zone_in_frame(SURFACE_ZONE)

    def truth(self, index: int) -> PartTruth:
        """Ground truth of part ``index`` without drawing it."""
        return self.plan.part(index).truth()

    def render_part(self, index: int) -> tuple[np.ndarray, PartTruth]:
        """The triggered-mode frame of part ``index`` and its truth, whatever was rendered before.

        Image: uint8 (H, W) grey or (H, W, 3) BGR, C-contiguous; same seed and index, same image."""
        plan = self.plan.part(index)
        scene, printer = self._parts()
        sprite = printer.sprite(plan)
        g = self.geometry
        x = round(g.width / 2 + plan.dx * g.scale - g.sprite_w / 2)
        y = round(g.height / 2 + plan.dy * g.scale - g.sprite_h / 2)
        rng = part_rng(self.settings.seed, index, _TRIGGERED_FRAME)
        belt_offset = int(rng.integers(0, 1 << 20))
        nx, ny = (int(v) for v in rng.integers(0, NOISE_PAD + 1, size=2))
        return scene.compose(belt_offset, [(sprite, x, y)], (nx, ny)), plan.truth()

    def _parts(self) -> tuple[Scene, PackPrinter]:
        """Belt, lighting, noise and the plain carton: made once, on first use (~0.3 s)."""
        if self._scene is None or self._printer is None:
            rng = part_rng(self.settings.seed, 0, _SCENE)
            self._scene = Scene(self.geometry, rng)
            self._printer = PackPrinter(self.geometry, rng)
        return self._scene, self._printer

    def _sprite(self, index: int) -> Sprite:
        return self._parts()[1].sprite(self.plan.part(index))

    # ---- Source -------------------------------------------------------------------------

    def resume_after(self, part_index: int) -> None:
        """The next part made is ``part_index + 1`` (see sources.base.ResumableLine); the run's
        ``parts`` limit counts from there."""
        self._run_first = self._next_part = max(part_index + 1, 0)

    @property
    def next_part(self) -> int:
        """Index of the next part this line will make."""
        return self._next_part

    def open(self) -> None:
        """Prepare the scene and start from the first part (or the empty belt in video mode)."""
        s = self.settings
        if s.width < _SMALLEST_LEGIBLE_WIDTH:
            log.warning(
                "camera %s: simulated frames %d px wide print codes too small to read reliably "
                "(use ≥ %d px)",
                self.camera,
                s.width,
                _SMALLEST_LEGIBLE_WIDTH,
            )
        if self.live and s.speed_px_per_frame > s.width - self.geometry.pack_w:
            log.warning(
                "camera %s: at %.0f px/frame a pack may never be fully in view "
                "(at most %d px/frame), so some parts get no frame with truth",
                self.camera,
                s.speed_px_per_frame,
                s.width - self.geometry.pack_w,
            )
        # Turn the carton to every pose now, so the first parts are not slower than the rest.
        self._parts()[1].prepare(MAX_POSE_ANGLE_DEG)
        self._seq = 0
        self._video = _Conveyor(self, self._next_part)
        self._next_due = time.monotonic()
        self._opened = True
        log.info(
            "camera %s: simulated line open (%s, seed %d, %dx%d, %s, from part %d)",
            self.camera,
            s.mode,
            s.seed,
            s.width,
            s.height,
            "colour" if s.color else "grey",
            self._next_part,
        )

    def read(self, timeout_s: float) -> Frame | None:
        """The next frame; None once ``settings.parts`` parts are done. Paced at ``rate_hz`` when
        set; raises TimeoutError when the next frame is due later than ``timeout_s`` from now."""
        if not self._opened:
            raise SourceError(f"camera {self.camera}: read() on the simulated line before open()")
        parts = self.settings.parts
        if not self.live and parts is not None and self._next_part >= self._run_first + parts:
            return None
        if self.live and self._video.finished(self._seq):
            return None
        self._pace(timeout_s)
        if self.live:
            image, truth = self._video.frame(self._seq)
            if truth is not None:
                self._next_part = max(self._next_part, truth.part_index + 1)
        else:
            image, truth = self.render_part(self._next_part)
            self._next_part += 1
        frame = Frame(
            camera=self.camera,
            seq=self._seq,
            t_ns=time.monotonic_ns(),
            image=image,
            truth=truth,
            source_name=SOURCE_NAME,
        )
        self._seq += 1
        return frame

    def close(self) -> None:
        self._opened = False
        self._video = _Conveyor(self, self._next_part)

    def _pace(self, timeout_s: float) -> None:
        rate = self.settings.rate_hz
        if rate <= 0:
            return
        now = time.monotonic()
        wait = self._next_due - now
        if wait > timeout_s:
            time.sleep(max(timeout_s, 0.0))
            raise TimeoutError(
                f"camera {self.camera}: next simulated frame is due in {wait:.3f} s, "
                f"later than the {timeout_s:.3f} s timeout"
            )
        if wait > 0:
            time.sleep(wait)
        # A slow reader gets the next frame one period after this one, never a catch-up burst.
        self._next_due = max(self._next_due, now) + 1.0 / rate


class _Conveyor:
    """Video mode: where each pack is on the belt at each frame, and the sprites now in view.

    Part i's sprite has its left edge at x = round(n · speed) − start[i] − sprite width in frame n,
    so parts enter on the left one after another, separated by their planned gaps.
    """

    def __init__(self, line: SyntheticLine, first_part: int) -> None:
        """``first_part``: the first pack on the belt (the line goes on from an earlier run)."""
        self.line = line
        self.g = line.geometry
        self.speed = line.settings.speed_px_per_frame
        self.starts: dict[int, int] = {first_part: 0}
        self.first = first_part  # first part still (or not yet) in view
        self.run_first = line._run_first
        self.sprites: dict[int, Sprite] = {}

    def start(self, index: int) -> int:
        while index not in self.starts:
            last = max(self.starts)
            gap = self.line.plan.part(last + 1).gap
            self.starts[last + 1] = self.starts[last] + round(self.g.pack_w * (1.0 + gap))
        return self.starts[index]

    def x(self, index: int, n: int) -> int:
        return round(n * self.speed) - self.start(index) - self.g.sprite_w

    def last_part(self) -> int | None:
        """Index of the run's last part (None: the line runs on)."""
        parts = self.line.settings.parts
        return None if parts is None else self.run_first + parts - 1

    def finished(self, n: int) -> bool:
        last = self.last_part()
        return last is not None and self.x(last, n) >= self.g.width

    def frame_count(self, parts: int) -> int:
        """Frames until ``parts`` parts (from the first on the belt) have left the view."""
        last = self.first + parts - 1
        return math.ceil((self.g.width + self.start(last) + self.g.sprite_w) / self.speed)

    def frame(self, n: int) -> tuple[np.ndarray, PartTruth | None]:
        g, last = self.g, self.last_part()
        while self.x(self.first, n) >= g.width:
            self.sprites.pop(self.first, None)
            self.starts.pop(self.first - 1, None)
            self.first += 1
        placed: list[tuple[Sprite, int, int]] = []
        best: tuple[float, int] | None = None
        i = self.first
        while self.x(i, n) + g.sprite_w > 0 and (last is None or i <= last):
            plan = self.line.plan.part(i)
            sprite = self.sprites.get(i)
            if sprite is None:
                sprite = self.sprites[i] = self.line._sprite(i)
            x = self.x(i, n)
            y = round(g.height / 2 + plan.dy * g.scale - g.sprite_h / 2)
            placed.append((sprite, x, y))
            corners = sprite.pack_corners + np.array([x, y], dtype=np.float32)
            inside = (corners.min(axis=0) >= 0).all() and (
                corners.max(axis=0) <= (g.width - 1, g.height - 1)
            ).all()
            if inside:
                off_centre = abs(float(corners[:, 0].mean()) - g.width / 2)
                if best is None or off_centre < best[0]:
                    best = (off_centre, i)
            i += 1
        rng = part_rng(self.line.settings.seed, n, _VIDEO_FRAME)
        nx, ny = (int(v) for v in rng.integers(0, NOISE_PAD + 1, size=2))
        scene = self.line._parts()[0]
        image = scene.compose(-round(n * self.speed), placed, (nx, ny))
        truth = self.line.plan.part(best[1]).truth() if best is not None else None
        return image, truth


def write_simulation(
    settings: SyntheticSourceSettings,
    out_dir: Path,
    parts: int,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Write ``parts`` simulated parts to ``out_dir`` as PNGs and ``truth.jsonl``; return a summary.

    Triggered mode writes ``part_NNNNNN.png`` per part; video mode ``frame_NNNNNN.png`` per frame,
    and each part's ``file`` is the frame where it is best centred. ``progress(done, total)`` is
    called after each image.
    """
    if parts < 1:
        raise ValueError(f"parts must be at least 1, got {parts}")
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LinesideError(f"{out_dir}: cannot create the output folder: {exc}") from None
    line = SyntheticLine(settings.model_copy(update={"parts": parts, "rate_hz": 0.0}))
    truths: list[PartTruth] = []
    files: dict[int, list[str]] = {}
    if settings.mode == "triggered":
        for i in range(parts):
            image, truth = line.render_part(i)
            name = f"part_{i:06d}.png"
            _write_png(out_dir / name, image)
            truths.append(truth)
            files[i] = [name]
            if progress is not None:
                progress(i + 1, parts)
        frames = parts
    else:
        line.open()
        total = line._video.frame_count(parts)
        frames = 0
        try:
            while (frame := line.read(timeout_s=1.0)) is not None:
                name = f"frame_{frame.seq:06d}.png"
                _write_png(out_dir / name, frame.image)
                if frame.truth is not None:
                    files.setdefault(frame.truth.part_index, []).append(name)
                frames += 1
                if progress is not None:
                    progress(frames, max(total, frames))
        finally:
            line.close()
        truths = [line.truth(i) for i in range(parts)]
    by_defect = dict.fromkeys(SIMULATED_DEFECTS, 0)
    try:
        with (out_dir / "truth.jsonl").open("w", encoding="utf-8") as fh:
            for t in truths:
                seen = files.get(t.part_index, [])
                record = {
                    "part_index": t.part_index,
                    # The middle of a part's frames is where it is best centred.
                    "file": seen[len(seen) // 2] if seen else None,
                    "defects": list(t.defects),
                    "serial": t.serial,
                    "codes": list(t.codes),
                    "lot": t.lot,
                    "expiry": t.expiry,
                    "product": t.product,
                    "expected_verdict": "PASS" if t.is_good else "FAIL",
                }
                fh.write(json.dumps(record) + "\n")
                for kind in t.defects:
                    by_defect[kind] += 1
    except OSError as exc:
        raise LinesideError(f"{out_dir / 'truth.jsonl'}: cannot be written: {exc}") from None
    missing = [t.part_index for t in truths if t.part_index not in files]
    if missing:
        log.warning("%d parts were never fully in view (first: %d)", len(missing), missing[0])
    return {
        "parts": parts,
        "frames": frames,
        "mode": settings.mode,
        "defective": sum(1 for t in truths if not t.is_good),
        "by_defect": by_defect,
        "out": str(out_dir),
    }


def _write_png(path: Path, image: np.ndarray) -> None:
    if not cv2.imwrite(str(path), image, [cv2.IMWRITE_PNG_COMPRESSION, 3]):
        raise LinesideError(f"{path}: cannot be written")
