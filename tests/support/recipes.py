"""Small recipes the GUI tests write to disk: one text each, shared by every test that needs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def demo_with_tools(*types: str) -> dict[str, Any]:
    """The demo recipe as a dict with only the tools of ``types`` (and the drift alerts that
    watch those tools: an alert on a removed tool is refused, as it should be)."""
    import yaml

    from inspection.paths import demo_recipe

    doc: dict[str, Any] = yaml.safe_load(demo_recipe().read_text(encoding="utf-8"))
    doc["tools"] = [t for t in doc["tools"] if t["type"] in types]
    kept = {t["id"] for t in doc["tools"]} | {"station"}
    doc["drift"] = [a for a in doc.get("drift", []) if a["series"].split(".")[0] in kept]
    return doc
