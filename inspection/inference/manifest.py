"""Model manifests: what a model file is, how to feed it, and the hash it must have.

Shipped models carry a YAML manifest beside the file; user models may carry the same facts in
their ONNX metadata. Loading checks the sha256 before a session is made (inference/session.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from inspection.errors import ModelError


class Normalisation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)


class InputSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    layout: Literal["NCHW", "NHWC"] = "NCHW"
    color: Literal["RGB", "BGR", "GRAY"] = "RGB"
    dtype: Literal["float32", "uint8"] = "float32"
    normalize: Normalisation = Field(default_factory=Normalisation)
    size_multiple: int = Field(default=1, ge=1)
    size: tuple[int, int] | None = None
    """Fixed (height, width) when the model is not size-dynamic."""


class ModelManifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    file: str
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    task: str
    input: InputSpec
    outputs: dict[str, dict[str, Any]] = Field(default_factory=dict)
    class_names: list[str] = Field(default_factory=list)
    provenance: dict[str, Any] = Field(default_factory=dict)
    license: str = ""

    def model_path(self, manifest_path: Path) -> Path:
        return manifest_path.parent / self.file


def load_manifest(path: Path) -> ModelManifest:
    """Read a manifest YAML; ModelError names the file and the field."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{path}: model manifest not found") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ModelError(f"{path}: model manifest cannot be read: {exc}") from None
    try:
        return ModelManifest.model_validate(data)
    except ValidationError as exc:
        e = exc.errors()[0]
        where = ".".join(str(p) for p in e["loc"]) or "(top level)"
        raise ModelError(f"{path}: {where}: {e['msg']}") from None


def backbone_manifest_path() -> Path:
    """The shipped feature backbone's manifest (read-only, inside the install)."""
    return (
        Path(__file__).resolve().parents[2]
        / "models"
        / "backbone"
        / "efficientnet_lite0_features.yaml"
    )
