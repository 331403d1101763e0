"""Files written in place: whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspection.paths import written_in_place


def test_a_file_written_in_place_appears_whole_and_only_at_the_end(tmp_path: Path) -> None:
    target = tmp_path / "report.csv"
    target.write_text("old", encoding="utf-8")
    with written_in_place(target) as tmp:
        assert tmp.suffix == ".csv" and tmp.name.startswith(".")
        tmp.write_text("new", encoding="utf-8")
        assert target.read_text(encoding="utf-8") == "old"  # readers still see the old file
    assert target.read_text(encoding="utf-8") == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.csv"]


def test_a_failed_write_leaves_the_old_file_and_no_half_one(tmp_path: Path) -> None:
    target = tmp_path / "report.pdf"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError, match="disk gone"), written_in_place(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("disk gone")
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.pdf"]
