"""The inspection tools of a recipe: one settings model per tool ``type:``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from inspection.recipe.common import Identifier, RegionSettings, Strict
from inspection.types import Region


class _ToolBase(Strict):
    """What every tool names: its id, the camera it looks through, and where in the frame."""

    id: Identifier
    camera: Identifier | None = None
    """Default: the recipe's first camera."""
    roi: RegionSettings | None = None
    """Where in the frame the tool looks (default: the whole frame)."""

    def region(self) -> Region | None:
        """The ROI in frame pixels, or None for the whole frame."""
        return self.roi.to_region() if self.roi is not None else None


class CodeToolSettings(_ToolBase):
    """Reads 1D/2D codes with zxing-cpp and checks their content."""

    type: Literal["codes"]
    formats: list[str] = Field(min_length=1)
    """zxing-cpp format names, e.g. DataMatrix, Code128, QRCode. Searching all is ~20× slower."""
    expected: str | None = None
    """Regular expression every code's text must match in full."""
    min_count: int = Field(default=1, ge=0, le=100)
    unique: bool = True
    """FAIL a part whose code text was already seen in this shift (duplicate serial)."""
    time_budget_ms: float = Field(default=150.0, gt=0.0, le=10_000.0)
    retries: bool = True
    """Retry hard images with other preparations; a linear code only a retry read counts once a
    second, different preparation reads it identically (a misread is worse than a no-read)."""
    add_on: Literal["ignore", "read", "require"] = "ignore"
    """EAN-2/EAN-5 add-on beside an EAN/UPC code: ``ignore`` it (digits printed beside a code
    never lengthen it), ``read`` it and append its digits when present, or ``require`` it."""

    @field_validator("formats")
    @classmethod
    def _known_formats(cls, v: list[str]) -> list[str]:
        import zxingcpp  # the format names are zxing-cpp's own

        for name in v:
            try:
                fmt = zxingcpp.barcode_format_from_str(name)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"unknown code format {name!r}") from exc
            if not fmt:
                raise ValueError(f"unknown code format {name!r}")
        return v

    @field_validator("expected")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from exc
        return v


class AnomalyToolSettings(_ToolBase):
    """Defects learnt from good parts only: anything unlike the taught good parts is a finding."""

    type: Literal["anomaly"]
    model: Path | None = None
    """Model file written by ``lineside train``; relative to the recipe. Default: the station's
    model folder (``<data>/models/<recipe>/<tool id>.lsam``), where teaching writes it."""
    threshold: float | None = Field(default=None, gt=0.0)
    """Overrides the threshold calibrated at teaching (score units of the model)."""
    min_area_px: int = Field(default=0, ge=0)
    """Findings smaller than this (frame pixels) are ignored."""
    align: Literal["none", "part"] = "none"
    """``part``: locate the part (the largest region standing out from the background) and cut
    the ROI with the part turned and shifted to its pose when taught: parts that lie a little
    differently on the conveyor are not mistaken for defects."""
    tile_px: int | None = Field(default=None, ge=32)
    """Cut a ROI larger than this into overlapping tiles of at most ``tile_px`` px, each taught
    and scored at full resolution: small defects in large frames (slower by the tile count)."""
    pool: Literal[1, 3, 5] | None = None
    """Patch neighbourhood (side, in stride-8 cells) averaged into each patch's features.
    Default 3 (PatchCore's): smooth maps of defects several patches large. ``1`` for thin
    cracks, scratches and small pits on textured surfaces (woven, grainy, brushed, cells), where
    averaging drowns them in the texture. Taught into the model."""
    score: Literal["map_max", "patches"] | None = None
    """How a part's score is made: ``map_max`` (default), the smoothed map's highest point;
    ``patches``, the mean of its highest ``score_patches`` patch scores. For textured surfaces
    use ``pool: 1`` with ``score: patches``: a good texture's lone peaks then count less than a
    defect's several raised patches."""
    score_patches: int | None = Field(default=None, ge=1, le=64)
    """With ``score: patches``, how many of the highest patch scores are averaged; default
    (pool + 1)², the patches one defect smaller than a patch raises. Taught into the model."""
    position_weight: float | None = Field(default=None, ge=0.0, le=100.0)
    """For parts that lie in the same place in every image (fixtured, or ``align: part``):
    compare each patch mostly with good patches from its own neighbourhood, so a mark that
    looks like a feature found elsewhere on good parts (a crack like a busbar, a scratch like
    an edge) is not matched there. Distance units added per 1 % of the image between the two
    patches; 2 is a good start, 0 (default) is off. It also makes scoring faster, as far
    places need not be searched. Taught into the model."""


class DetectorToolSettings(_ToolBase):
    """The user's own detection model: ONNX in the Ultralytics YOLOv8/11 export layout."""

    type: Literal["detector"]
    model: Path
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")
    class_names: list[str] | None = None
    """Names of the model's classes in order; default: the model's own metadata."""
    confidence: float = Field(default=0.25, gt=0.0, le=1.0)
    class_confidence: dict[str, float] = Field(default_factory=dict)
    fail_classes: list[str] | None = None
    """Classes whose detection fails the part; default: any detection fails it."""
    iou: float = Field(default=0.45, gt=0.0, le=1.0)


class AnomalibToolSettings(_ToolBase):
    """The user's own anomaly model exported by anomalib to ONNX."""

    type: Literal["anomalib"]
    model: Path
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")
    metadata: Path | None = None
    """anomalib's metadata.json (thresholds, normalisation) when the ONNX does not carry them."""
    threshold: float | None = None
    min_area_px: int = Field(default=0, ge=0)


PRINT_KINDS = ("solid", "dot_matrix")
"""The ways a text field can be printed (``TextFieldSettings.print``)."""


class TextFieldSettings(Strict):
    """One printed text on a label and the rule it must meet."""

    name: Identifier
    region: RegionSettings | None = None
    """Where the text sits, in pixels of the taught label reference; None: search the label."""
    rule: Literal["exact", "regex", "batch", "date", "any"] = "any"
    value: str | None = None
    """The exact text (rule exact) or a regular expression (rule regex)."""
    batch_key: str | None = None
    """Batch value to compare with (rule batch), e.g. ``lot``; default: the field's name."""
    date_formats: list[str] = Field(default_factory=list)
    """Accepted date layouts (rule date), e.g. ``EXP %Y-%m``, ``%d %b``, ``%m/%y``."""
    min_days_ahead: int | None = None
    """For dates: at least this many days after today (expiry)."""
    allow_confusions: bool = False
    """Tolerate the usual OCR confusions (O/0, I/1, S/5, B/8, Z/2, G/6) when comparing."""
    min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    print: Literal["solid", "dot_matrix"] = "solid"
    """How the text is printed: ``solid`` strokes (labels, thermal transfer), or ``dot_matrix``
    for separate dots (dot-matrix and continuous-inkjet coders), joined before reading."""
    read_by_position: bool = False
    """With an expected value (rule exact or batch): where the text as read differs, read it
    again with each character chosen within the class of the expected one at its place (a digit,
    a letter, or that very sign), as industrial OCR's *fielding* does: a dot-printed Z that the
    recogniser took for a 2 reads as the Z. A character is taken only where the recogniser gave
    it some probability (``ocr_fielding.FLOOR``), so a clearly printed 2 still fails a Z."""

    @model_validator(mode="after")
    def _by_position_needs_a_value(self) -> TextFieldSettings:
        if self.read_by_position and self.rule not in ("exact", "batch"):
            raise ValueError(
                f"text field {self.name!r}: read_by_position needs rule exact or batch (an "
                f"expected text to read against), not {self.rule!r}"
            )
        return self

    @field_validator("print", mode="before")
    @classmethod
    def _print_kind(cls, v: object, info: ValidationInfo) -> object:
        # said here, with the field's name, rather than as a bare "Input should be ..."
        if v not in PRINT_KINDS:
            name = info.data.get("name", "?")
            kinds = " or ".join(repr(k) for k in PRINT_KINDS)
            raise ValueError(f"text field {name!r}: print must be {kinds}, got {v!r}")
        return v


LATIN_ALPHABET = "".join(chr(c) for c in range(0x21, 0x7F)) + (
    "ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝßàáâãäåæçèéêëìíîïñòóôõöøùúûüýÿŒœ°µ€£¥§±℮"
)
"""What ``alphabet: latin`` reads besides the space: printable ASCII, the letters of the Western
European languages, and the signs printed on food, drink and pharma packs (degrees, micro,
currencies, the e-mark ℮, plus-minus)."""


class LabelToolSettings(_ToolBase):
    """A label: present, placed within tolerance, and its printed text verified by OCR."""

    type: Literal["label"]
    reference: Path | None = None
    """Label reference taught from a good part; default: the station's model folder."""
    max_offset_px: float = Field(default=40.0, gt=0.0)
    mm_per_px: float | None = Field(default=None, gt=0.0)
    max_offset_mm: float | None = Field(default=None, gt=0.0)
    max_rotation_deg: float = Field(default=4.0, gt=0.0, le=90.0)
    min_match: float = Field(default=0.5, gt=0.0, le=1.0)
    fields: list[TextFieldSettings] = Field(default_factory=list)
    alphabet: Literal["latin", "all"] = "latin"
    """The characters the fields may be read as: ``latin`` (``LATIN_ALPHABET``: faster, and no
    look-alike from another script can win a read), or ``all`` of the recogniser's (Chinese,
    Japanese, Korean, Greek, Cyrillic, ... as well) for text in other scripts."""

    @model_validator(mode="after")
    def _values_in_the_alphabet(self) -> LabelToolSettings:
        if self.alphabet == "all":
            return self
        allowed = set(LATIN_ALPHABET) | {" "}
        for field in self.fields:
            if field.rule != "exact" or field.value is None:
                continue
            outside = sorted({c for c in field.value if c not in allowed})
            if outside:
                raise ValueError(
                    f"text field {field.name!r}: its value has {''.join(outside)!r}, which "
                    "alphabet latin cannot read; set the tool's alphabet: all"
                )
        return self


ToolSettings = Annotated[
    CodeToolSettings
    | AnomalyToolSettings
    | DetectorToolSettings
    | AnomalibToolSettings
    | LabelToolSettings,
    Field(discriminator="type"),
]

TOOL_TYPES = ("codes", "anomaly", "detector", "anomalib", "label")
