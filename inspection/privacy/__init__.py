"""The notice for the people on the line: what this station records, for how long, where it goes
and who can see it, generated from the recipe in use and the station's settings (DESIGN §10).

``notice`` gathers the facts (a frozen ``PrivacyNotice``) and words them; ``pictures`` draws each
camera's privacy masks on its picture; ``notice_md`` and ``notice_pdf`` write it. The CLI
(``lineside privacy``) and the app's Privacy page call the same code.
"""

from __future__ import annotations

from inspection.privacy.in_use import recipe_in_use
from inspection.privacy.notice import (
    NOTHING_LEAVES,
    TITLE,
    CameraFacts,
    MaskArea,
    Output,
    PrivacyNotice,
    Section,
    StorageFacts,
    build_notice,
)
from inspection.privacy.pictures import NO_FRAME, CameraPicture

__all__ = [
    "NOTHING_LEAVES",
    "NO_FRAME",
    "TITLE",
    "CameraFacts",
    "CameraPicture",
    "MaskArea",
    "Output",
    "PrivacyNotice",
    "Section",
    "StorageFacts",
    "build_notice",
    "recipe_in_use",
]
