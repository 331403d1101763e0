"""The notice as Markdown, each camera's mask drawing a PNG beside it (``<name>-<camera>.png``)."""

from __future__ import annotations

import re
from pathlib import Path

import cv2

from inspection.errors import LinesideError
from inspection.paths import written_in_place
from inspection.privacy.notice import INTRO, TITLE, PrivacyNotice

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def picture_name(md_path: Path, camera: str) -> str:
    """The file name of ``camera``'s drawing beside the notice ``md_path``."""
    return f"{md_path.stem}-{_UNSAFE.sub('-', camera).strip('.-') or 'camera'}.png"


def _md_text(text: str) -> str:
    # configuration text (paths, ids) must not turn into Markdown markup
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text)


def notice_markdown(notice: PrivacyNotice, md_path: Path) -> str:
    """The Markdown text; pictures are linked by their names beside ``md_path``."""
    lines = [f"# {TITLE}", "", f"**{_md_text(notice.subtitle)}**", "", INTRO, ""]
    for section in notice.sections():
        lines += [f"## {section.heading}", ""]
        lines += [f"- {_md_text(sentence)}" for sentence in section.sentences]
        lines.append("")
        if section.heading.startswith("Cameras"):
            for cam in notice.cameras:
                name = picture_name(md_path, cam.camera)
                lines += [
                    f"![Camera {_md_text(cam.camera)} with its masked areas]({name})",
                    "",
                    f"*Camera {_md_text(cam.camera)}: {_md_text(cam.picture.note)}.*",
                    "",
                ]
    lines += ["---", "", f"*{_md_text(notice.footer)}*", ""]
    return "\n".join(lines)


def write_notice_md(notice: PrivacyNotice, path: Path) -> list[Path]:
    """Write the notice to ``path`` and one PNG per camera beside it; the files written
    (Markdown first). Each file is written beside its name, then renamed in. LinesideError
    naming the file when one cannot be written."""
    path = Path(path)
    written: list[Path] = []
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for cam in notice.cameras:
            png = path.with_name(picture_name(path, cam.camera))
            ok, data = cv2.imencode(".png", cam.picture.image, [cv2.IMWRITE_PNG_COMPRESSION, 6])
            if not ok:
                raise LinesideError(f"privacy notice: cannot encode the picture of {cam.camera}")
            with written_in_place(png) as tmp:
                tmp.write_bytes(data.tobytes())
            written.append(png)
        with written_in_place(path) as tmp:
            tmp.write_text(notice_markdown(notice, path), encoding="utf-8")
    except OSError as exc:
        raise LinesideError(
            f"privacy notice: cannot write {exc.filename or path}: {exc.strerror or exc}"
        ) from exc
    return [path, *written]
