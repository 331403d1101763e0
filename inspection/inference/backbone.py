"""The shipped feature backbone (EfficientNet-Lite0, ImageNet): images in, stride-8/16 feature maps out.

Used by the anomaly tool for patch features. The file's sha256 is checked against its manifest at
load (a mismatch is a ModelError); one instance belongs to one worker thread (DESIGN §4, §6).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from inspection.errors import ModelError
from inspection.inference.manifest import backbone_manifest_path, load_manifest
from inspection.inference.session import SessionSettings, make_session

log = logging.getLogger(__name__)

OUTPUT_NAMES = ("stride8", "stride16")


class FeatureBackbone:
    """EfficientNet-Lite0 feature maps for uint8 grey or BGR images sized in multiples of 32."""

    def __init__(
        self, settings: SessionSettings | None = None, manifest_path: Path | None = None
    ) -> None:
        path = manifest_path or backbone_manifest_path()
        manifest = load_manifest(path)
        spec = manifest.input
        if spec.layout != "NCHW" or spec.dtype != "float32" or spec.color != "RGB":
            raise ModelError(
                f"{path}: backbone input must be NCHW float32 RGB, "
                f"the manifest says {spec.layout} {spec.dtype} {spec.color}"
            )
        self.manifest = manifest
        self.multiple = spec.size_multiple
        self._input = spec.name
        self._mean = np.asarray(spec.normalize.mean, np.float32).reshape(1, 3, 1, 1)
        self._inv_std = (1.0 / np.asarray(spec.normalize.std, np.float32)).reshape(1, 3, 1, 1)
        self._sha256 = manifest.sha256.lower()
        warm = np.zeros((1, 3, 2 * self.multiple, 2 * self.multiple), np.float32)
        self._session: Any = make_session(
            manifest.model_path(path),
            sha256=manifest.sha256,
            settings=settings or SessionSettings(),
            warmup={self._input: warm},
        )
        names = {o.name for o in self._session.get_outputs()}
        missing = [n for n in OUTPUT_NAMES if n not in names]
        if missing:
            raise ModelError(
                f"{manifest.model_path(path)}: backbone has no output(s) {missing} "
                f"(it has {sorted(names)})"
            )

    @property
    def sha256(self) -> str:
        """sha256 of the backbone's ONNX file (checked at load)."""
        return self._sha256

    def features(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(stride8, stride16) maps of one image.

        image: uint8 (H, W) grey or (H, W, 3) BGR, H and W multiples of ``self.multiple``.
        Returns float32 (40, H/8, W/8) and (112, H/16, W/16), batch axis removed.
        """
        if image.dtype != np.uint8 or image.ndim not in (2, 3):
            raise ValueError(
                f"backbone input must be uint8 (H, W) or (H, W, 3), got {image.dtype} {image.shape}"
            )
        h, w = image.shape[:2]
        if h % self.multiple or w % self.multiple or h == 0 or w == 0:
            raise ValueError(
                f"backbone input is {w}×{h} px; both sides must be multiples of {self.multiple}"
            )
        if image.ndim == 2 or image.shape[2] == 1:
            gray = image.reshape(h, w)
            rgb = np.broadcast_to(gray[:, :, None], (h, w, 3))
        elif image.shape[2] == 3:
            rgb = image[:, :, ::-1]
        else:
            raise ValueError(f"backbone input has {image.shape[2]} channels (expected 1 or 3)")
        x = rgb.transpose(2, 0, 1)[None].astype(np.float32)
        x -= self._mean
        x *= self._inv_std
        f8, f16 = self._session.run(list(OUTPUT_NAMES), {self._input: x})
        return np.asarray(f8[0], np.float32), np.asarray(f16[0], np.float32)
