"""`lineside bench --report`: end to end on a short day, through the command line."""

from __future__ import annotations

import json

import pytest

from inspection.cli import main


def test_bench_report_times_every_format_and_the_line(capsys: pytest.CaptureFixture[str]):
    code = main(
        ["bench", "--report", "--json", "--hours", "0.1", "--history-rows", "5000"]
    )  # 10 parts/s for 6 min: 3,600 parts, then 1,400 more for History
    out = capsys.readouterr().out
    assert code == 0
    figures = json.loads(out)  # one JSON object on stdout, nothing else
    assert list(figures)[:4] == ["rows", "report_s", "history_first_page_ms", "inspection_slowdown"]
    assert figures["rows"] == 3600
    assert set(figures["report_s"]) == {"shift", "day"}
    for scope in ("shift", "day"):
        times = figures["report_s"][scope]
        assert set(times) == {"xlsx", "csv", "pdf"}
        assert all(isinstance(s, float) and 0 < s < 120 for s in times.values())
    assert 0 < figures["history_first_page_ms"] < 5000
    assert figures["history_rows"] == 5000
    station = figures["station"]
    assert station["parts_per_s_alone"] > 0 and station["parts_per_s_with_report"] > 0
    assert figures["inspection_slowdown"] == pytest.approx(
        1 - station["parts_per_s_with_report"] / station["parts_per_s_alone"], abs=0.01
    )
    verdicts = figures["verdicts"]
    assert sum(verdicts.values()) == 3600 and verdicts["fail"] > 0


def test_bench_report_refuses_a_day_of_no_hours(capsys: pytest.CaptureFixture[str]):
    assert main(["bench", "--report", "--json", "--hours", "0"]) == 2
    assert "--hours must be > 0" in capsys.readouterr().err
