"""What every part of a recipe is built from: strict models, identifiers, rectangles."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from inspection.types import Region

Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


def _bare_host(v: str) -> str:
    if "/" in v or " " in v:
        raise ValueError("host is a name or address alone (no scheme, path or spaces)")
    return v


HostName = Annotated[str, Field(min_length=1, max_length=253), AfterValidator(_bare_host)]
"""A peer's host name or address, alone: ``10.0.0.5`` or ``broker.plant.local``."""


class Strict(BaseModel):
    """Unknown fields are refused (a typo must not be silently ignored); settings never change."""

    # field docstrings become descriptions: the settings screens show them as tooltips
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class RegionSettings(Strict):
    """A rectangle in frame pixels."""

    x: int = Field(ge=0)
    y: int = Field(ge=0)
    w: int = Field(gt=0)
    h: int = Field(gt=0)

    def to_region(self) -> Region:
        return Region(x=self.x, y=self.y, w=self.w, h=self.h)
