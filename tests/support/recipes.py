"""Small recipes the GUI tests write to disk: one text each, shared by every test that needs it."""

from __future__ import annotations

from pathlib import Path

# A simulated line that takes a part on each TRIGGER / F5 (codes tool only: quick).
MANUAL = """
schema_version: 1
name: manual
cameras:
  - id: cam1
    source: {type: synthetic, seed: 3, rate_hz: 20}
trigger: {type: software, timeout_s: 1.0}
tools:
  - id: serial
    type: codes
    roi: {x: 588, y: 232, w: 484, h: 420}
    formats: [DataMatrix, Code128]
    min_count: 2
"""

# A free-running simulated conveyor with no tool: for camera and mask editing.
BAY = """
schema_version: 1
name: bay
cameras:
  - id: cam1
    source: {type: synthetic, seed: 3, mode: video, rate_hz: 20, width: 640, height: 480}
    health: {frozen_frames: 0}
"""


def write_recipe(folder: Path, text: str, name: str) -> Path:
    """``text`` saved as ``folder/name.yaml``."""
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path
