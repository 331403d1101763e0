"""The notice written as Markdown (with its PNGs) and as an A4 PDF, read back."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import cv2
import pytest
from support.privacy_recipe import HEIGHT, WIDTH, write_masked_recipe

from inspection.errors import LinesideError
from inspection.paths import user_paths
from inspection.privacy import NO_FRAME, NOTHING_LEAVES, TITLE, PrivacyNotice, build_notice
from inspection.privacy.notice_md import write_notice_md
from inspection.privacy.notice_pdf import write_notice_pdf
from inspection.recipe import load_recipe
from inspection.recipe.station import StationSettings

HEADINGS = (
    "Cameras and privacy masks",
    "What is stored and for how long",
    "What leaves this machine",
    "Who can see what",
    "What this software never does",
)
SECOND_CAMERA = """  - id: line_side
    source:
      type: synthetic
      width: 640
      height: 480
    privacy_masks:
      - [[0, 0], [200, 0], [200, 480], [0, 480]]
"""


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: install the apt package poppler-utils")
    return found


def _pdf_text(pdf: Path) -> str:
    out = subprocess.run(
        [_tool("pdftotext"), "-raw", str(pdf), "-"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return re.sub(r"\s+", " ", out.stdout)


def _pages(pdf: Path) -> int:
    out = subprocess.run([_tool("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True)
    match = re.search(r"^Pages:\s+(\d+)", out.stdout, re.MULTILINE)
    assert match, out.stdout
    return int(match.group(1))


@pytest.fixture
def notice(tmp_path: Path) -> PrivacyNotice:
    recipe = load_recipe(write_masked_recipe(tmp_path / "recipe", second_camera=SECOND_CAMERA))
    # the folder camera answers; the simulated one is drawn blank (use_cameras applies to both,
    # so give the folder camera's picture as the station's frame)
    door = build_notice(recipe, StationSettings(), user_paths(), timeout_s=5.0)
    frames = {"door": door.cameras[0].picture.image}
    return build_notice(
        recipe,
        StationSettings(line="Line 4"),
        user_paths(),
        recipe_file=tmp_path / "recipe" / "masked.yaml",
        frames=frames,
        use_cameras=False,
    )


def test_markdown_has_every_section_and_links_each_cameras_drawing(
    notice: PrivacyNotice, tmp_path: Path
) -> None:
    md = tmp_path / "out" / "notice.md"
    written = write_notice_md(notice, md)
    assert written == [md, md.with_name("notice-door.png"), md.with_name("notice-line_side.png")]
    text = md.read_text(encoding="utf-8")
    assert text.startswith(f"# {TITLE}\n")
    for heading in HEADINGS:
        assert f"\n## {heading}\n" in text
    assert "](notice-door.png)" in text and "](notice-line_side.png)" in text
    assert NO_FRAME in text, "the simulated camera was drawn on a blank frame, and it says so"
    assert NOTHING_LEAVES in text
    door = cv2.imread(str(md.with_name("notice-door.png")))
    assert door is not None and door.shape == (HEIGHT, WIDTH, 3)
    assert (door[20, 20] == 0).all(), "mask 1 black in the written picture"
    side = cv2.imread(str(md.with_name("notice-line_side.png")))
    assert side is not None and side.shape == (480, 640, 3)
    assert not list(md.parent.glob(".*partial*"))


def test_pdf_is_an_a4_notice_of_at_most_two_pages_with_every_section(
    notice: PrivacyNotice, tmp_path: Path
) -> None:
    pdf = write_notice_pdf(notice, tmp_path / "notice.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert 1 <= _pages(pdf) <= 2
    text = _pdf_text(pdf)
    assert TITLE in text
    for heading in HEADINGS:
        assert heading in text
    assert "Camera door" in text and "2 masked areas" in text
    assert NOTHING_LEAVES in text
    assert "no user accounts yet" in text and "No face recognition" in text
    assert "no frame available: masks drawn on a blank frame" in text
    out = subprocess.run(
        [_tool("pdfimages"), "-list", str(pdf)], capture_output=True, text=True, check=True
    )
    assert len(out.stdout.strip().splitlines()) - 2 >= 2, "both mask drawings are embedded"


def test_a_notice_that_cannot_be_written_says_where(notice: PrivacyNotice, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(LinesideError, match="a-file"):
        write_notice_pdf(notice, blocker / "notice.pdf")
    with pytest.raises(LinesideError, match="a-file"):
        write_notice_md(notice, blocker / "notice.md")
