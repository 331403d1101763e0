"""The PDF shift report rendered with poppler (pdftoppm) and its text read back (pdftotext)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from inspection.reports.figures import ShiftReport
from inspection.reports.pdf import write_pdf
from tests.inspection.reports.sample_report import empty_report, sample_report


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: install the apt package poppler-utils")
    return found


def _text(pdf: Path) -> str:
    out = subprocess.run(
        [_tool("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    )
    return out.stdout


def _render(pdf: Path, tmp_path: Path) -> list[Path]:
    prefix = tmp_path / "page"
    subprocess.run(
        [_tool("pdftoppm"), "-r", "50", "-png", str(pdf), str(prefix)], check=True, timeout=60
    )
    pages = sorted(tmp_path.glob("page*.png"))
    for page in pages:
        assert page.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and page.stat().st_size > 2000
    return pages


@pytest.fixture
def report(tmp_path: Path) -> ShiftReport:
    return sample_report(tmp_path / "archive", rejects=120, images=60)


def test_report_renders_and_carries_the_counts(report: ShiftReport, tmp_path: Path) -> None:
    pdf = write_pdf(report, tmp_path / "report.pdf")
    assert pdf == tmp_path / "report.pdf" and not list(tmp_path.glob(".*partial*"))
    pages = _render(pdf, tmp_path)
    assert 1 <= len(pages) <= 2
    text = _text(pdf)
    assert "2026-12-04/Early" in text
    assert "Station 1 – Prüfplatz" in text  # accents and the dash survive (DejaVu Sans)
    assert "06:00 → 14:00 (Europe/Berlin)" in text
    headline = re.search(r"Parts\s+PASS\s+FAIL\s+ERROR\s+Yield\s+Downtime\s*\n\s*\n?(.*)", text)
    assert headline is not None
    values = headline.group(1).split()
    assert values[:4] == [
        f"{report.parts:,}",
        f"{report.passed:,}",
        f"{report.failed:,}",
        f"{report.errors:,}",
    ]
    assert values[4:6] == [f"{report.yield_ * 100:.1f}", "%"]  # type: ignore[operator]
    assert f"{report.downtime_s / 60:.1f} min" in text
    assert "dent ≥ 0.5 mm · Öffnung" in text
    assert "print <faint> & smeared" in text  # markup characters shown, not parsed
    for tool in report.tools:
        assert tool.tool_id in text and f"{tool.passed:,}" in text
    top = report.reasons[0]
    assert re.search(rf"{top.reason}\s+{top.count}\s+{top.share * 100:.1f} %", text)
    # The first 8 rejects with an existing image are shown: every second reject has one.
    for reject in report.rejects[:16:2]:
        assert f"Part {reject.part_number} · {reject.verdict}" in text
    assert f"Part {report.rejects[16].part_number} ·" not in text


def test_empty_report_says_no_parts_inspected(tmp_path: Path) -> None:
    pdf = write_pdf(empty_report(), tmp_path / "empty.pdf")
    assert len(_render(pdf, tmp_path)) == 1
    text = _text(pdf)
    assert "No parts inspected" in text
    assert "2026-12-04/Night" in text
    assert "22:00 → 06:00" in text


def test_many_rejects_stay_within_two_pages(tmp_path: Path) -> None:
    report = sample_report(tmp_path / "archive", rejects=5000, images=200)
    pdf = write_pdf(report, tmp_path / "big.pdf")
    assert len(_render(pdf, tmp_path)) <= 2
    assert f"{report.failed:,}" in _text(pdf)
