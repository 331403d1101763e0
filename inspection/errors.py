"""The few exception kinds the core raises at its edges; each message names what was wrong and where."""

from __future__ import annotations


class LinesideError(Exception):
    """Base of every error Lineside raises on purpose (bad input, missing device, ...)."""


class RecipeError(LinesideError):
    """A recipe that cannot be used: the message names the file, the field path and the reason."""


class SourceError(LinesideError):
    """A camera or image source that cannot be opened or read."""


class ModelError(LinesideError):
    """A model file that is missing, corrupt, or of the wrong shape or hash."""


class StorageError(LinesideError):
    """The results store or image archive cannot be written or read."""


class ToolError(LinesideError):
    """A tool cannot be built from its recipe settings (the part itself gets ERROR, never this)."""
