"""Small recipes with privacy masks for the notice's tests: a folder camera of known pictures."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

WIDTH, HEIGHT = 320, 240
GREY = 90
MASK_1 = [(10, 10), (110, 10), (110, 70), (10, 70)]
"""A 100×60 rectangle: 6000 of the picture's 76 800 pixels."""
MASK_2 = [(200, 150), (300, 150), (250, 230)]


def write_masked_recipe(folder: Path, *, extra: str = "", second_camera: str = "") -> Path:
    """A recipe whose camera ``door`` reads flat grey 320×240 pictures from a folder, with two
    privacy masks; ``extra`` is appended (e.g. an ``archive:`` section), ``second_camera`` is a
    camera entry added after the first (YAML, indented as a list item)."""
    images = folder / "pictures"
    images.mkdir(parents=True, exist_ok=True)
    for i in range(2):
        cv2.imwrite(str(images / f"{i:03d}.png"), np.full((HEIGHT, WIDTH), GREY, dtype=np.uint8))
    recipe = folder / "masked.yaml"
    recipe.write_text(
        f"""schema_version: 1
name: masked
version: "3"
station: packing-2
cameras:
  - id: door
    source:
      type: folder
      path: pictures
    privacy_masks:
      - {[list(p) for p in MASK_1]}
      - {[list(p) for p in MASK_2]}
{second_camera}trigger:
  type: every_frame
{extra}""",
        encoding="utf-8",
    )
    return recipe
