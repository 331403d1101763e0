"""Realistic ``ShiftReport`` values built in memory for the writer tests (and a few small
archive images made with cv2), so the xlsx/pdf writers are tested without a database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import cv2
import numpy as np

from inspection.reports.figures import (
    AlarmRow,
    ChangeRow,
    HourFigures,
    ReasonCount,
    RejectRow,
    ReportPeriod,
    ShiftReport,
    ToolFigures,
)

ZONE = "Europe/Berlin"
SHIFT_LABEL = "2026-12-04/Early"
# Reasons with the awkward text a real line produces: a formula-looking code reason, a
# control character from a barcode payload, markup characters and non-ASCII text.
REASONS = (
    "scratch on housing",
    "code unreadable",
    "label missing",
    '=HYPERLINK("http://x","click")',
    "dent ≥ 0.5 mm · Öffnung",
    "print <faint> & smeared",
    "-offset 2 mm\x07",
)


def _unix(year: int, month: int, day: int, hour: int, minute: int = 0) -> float:
    return dt.datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(ZONE)).timestamp()


def write_part_image(path: Path, seed: int) -> Path:
    """A small archived-frame lookalike (a grey part with a dark defect blob), as JPEG."""
    rng = np.random.default_rng(seed)
    image = np.full((240, 320, 3), 170, np.uint8)
    image += rng.integers(0, 20, image.shape, dtype=np.uint8)
    cv2.rectangle(image, (60, 50), (260, 190), (120, 120, 125), -1)
    cx, cy = int(rng.integers(80, 240)), int(rng.integers(70, 170))
    cv2.circle(image, (cx, cy), 14, (30, 30, 200), -1)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), image):
        raise OSError(f"could not write test image {path}")
    return path


def sample_report(
    image_dir: Path | None = None,
    *,
    rejects: int = 120,
    images: int = 60,
    passed_per_reject: int = 19,
) -> ShiftReport:
    """An early shift (06:00-14:00 Berlin) with ``rejects`` FAIL/ERROR parts.

    The first ``images`` rejects get an image path under ``image_dir``; every second one of
    those is written as a real file, the others are missing from disk (as after retention)."""
    start = _unix(2026, 12, 4, 6)
    end = _unix(2026, 12, 4, 14)
    period = ReportPeriod(SHIFT_LABEL, start, end, dt.date(2026, 12, 4), "Early")
    rows: list[RejectRow] = []
    reason_counts: dict[str, int] = {}
    hours = 8
    per_hour_fail = [0] * hours
    per_hour_error = [0] * hours
    # A skewed mix so the Pareto has a clear head and a long tail.
    weights = (40, 25, 15, 8, 6, 4, 2)
    pool = [r for r, w in zip(REASONS, weights, strict=True) for _ in range(w)]
    for i in range(rejects):
        reason = pool[(i * 7) % len(pool)]
        verdict = "ERROR" if reason == "code unreadable" and i % 3 == 0 else "FAIL"
        t = start + (i + 0.5) * (end - start) / max(rejects, 1)
        hour = min(int((t - start) // 3600), hours - 1)
        if verdict == "FAIL":
            per_hour_fail[hour] += 1
        else:
            per_hour_error[hour] += 1
        reason_counts[reason] = reason_counts.get(reason, 0) + 1
        image_path: str | None = None
        if image_dir is not None and i < images:
            p = image_dir / "2026-12-04" / f"insp-{i:06d}__cam1.jpg"
            if i % 2 == 0:
                write_part_image(p, i)
            image_path = str(p)
        rows.append(
            RejectRow(
                inspection_id=f"insp-{i:06d}",
                part_number=1000 + i * (passed_per_reject + 1),
                wall_time=t,
                verdict=verdict,
                reason=reason,
                codes="" if verdict == "ERROR" else f"LOT7-{i:05d} +49{i % 10}",
                image_path=image_path,
                lot="B-2026-118" if t < start + 3 * 3600 else "B-2026-119",
                recipe_version="housing v3" if t < start + 4 * 3600 else "housing v4",
            )
        )
    failed = sum(per_hour_fail)
    errors = sum(per_hour_error)
    passed = rejects * passed_per_reject
    hourly = []
    for h in range(hours):
        fails_h, errors_h = per_hour_fail[h], per_hour_error[h]
        # Spread the passes so the hourly parts add up to the shift's parts exactly.
        passes_h = passed // hours + (1 if h < passed % hours else 0)
        hourly.append(
            HourFigures(start + h * 3600, passes_h + fails_h + errors_h, fails_h, errors_h)
        )
    total_rejects = failed + errors
    reasons: list[ReasonCount] = []
    running = 0
    for reason, count in sorted(reason_counts.items(), key=lambda kv: (-kv[1], kv[0])):
        running += count
        reasons.append(ReasonCount(reason, count, count / total_rejects, running / total_rejects))
    parts = passed + failed + errors
    tools = (
        ToolFigures("housing-defects", "defect", parts - 40, 30, 10, 0.12, 0.48, 0.97, (0.5,)),
        ToolFigures(
            "dm-code",
            "codes",
            parts - 25,
            15,
            10,
            None,
            None,
            None,
            (0.6, 0.55),
            (("code quality median", 0.92), ("code quality min", 0.41)),
        ),
        ToolFigures(
            "label-ocr",
            "label",
            parts - 12,
            12,
            0,
            0.81,
            0.95,
            0.99,
            (0.7,),
            (("OCR confidence min", 0.71),),
        ),
    )
    alarm_at = start + 2.5 * 3600
    alarms = (
        AlarmRow("cam1", "camera lost: no frames for 2 s", alarm_at, alarm_at + 420.0, 420.0),
        AlarmRow("cam2", "exposure out of range", end - 600.0, None, 600.0),
    )
    changes = (
        ChangeRow(start + 60.0, "batch", "lot B-2026-118 started"),
        ChangeRow(alarm_at, "alarm", "cam1: camera lost: no frames for 2 s"),
        ChangeRow(start + 3 * 3600, "batch", "lot B-2026-118 → B-2026-119"),
        ChangeRow(start + 4 * 3600, "recipe", "housing v3 → v4 (dm-code threshold 0.6 → 0.55)"),
        ChangeRow(start + 5 * 3600, "teaching", "=cmd|' /C calc'!A0 taught 40 good parts"),
    )
    return ShiftReport(
        station="Station 1 – Prüfplatz",
        line="Line A",
        period=period,
        timezone=ZONE,
        generated_at=end + 65.0,
        software_version="0.1.0",
        recipe_versions=("housing v3", "housing v4"),
        lots=("B-2026-118", "B-2026-119"),
        parts=parts,
        passed=passed,
        failed=failed,
        errors=errors,
        tools=tools,
        reasons=tuple(reasons),
        hourly=tuple(hourly),
        changes=changes,
        alarms=alarms,
        rejects=tuple(rows),
        last_row_id=parts,
    )


def empty_report() -> ShiftReport:
    """A night shift in which nothing was inspected (the line stood still)."""
    start = _unix(2026, 12, 4, 22)
    end = _unix(2026, 12, 5, 6)
    return ShiftReport(
        station="Station 1",
        line="Line A",
        period=ReportPeriod("2026-12-04/Night", start, end, dt.date(2026, 12, 4), "Night"),
        timezone=ZONE,
        generated_at=end + 30.0,
        software_version="0.1.0",
        recipe_versions=(),
        lots=(),
        parts=0,
        passed=0,
        failed=0,
        errors=0,
        tools=(),
        reasons=(),
        hourly=tuple(HourFigures(start + h * 3600, 0, 0, 0) for h in range(8)),
        changes=(),
        alarms=(),
        rejects=(),
        last_row_id=0,
    )
