"""Text the OCR tests render themselves with OpenCV."""

from __future__ import annotations

import cv2
import numpy as np


def text_image(lines: list[str], scale: float = 1.2, width: int = 420) -> np.ndarray:
    """uint8 (H, W) black text lines on white paper."""
    h = 20 + 50 * len(lines)
    image = np.full((h, width), 250, np.uint8)
    for i, text in enumerate(lines):
        cv2.putText(
            image, text, (12, 48 + 50 * i), cv2.FONT_HERSHEY_DUPLEX, scale, 20, 2, cv2.LINE_AA
        )
    return image
