"""The ELPV layout: defect-free cells split into taught and tested, unsure cells left out."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspection.evaluation.elpv import read_labels, write_layout


def _data(tmp_path: Path, lines: list[str]) -> Path:
    data = tmp_path / "data"
    (data / "images").mkdir(parents=True)
    for line in lines:
        (data / line.split()[0]).write_bytes(b"png")
    (data / "labels.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return data


def test_each_kind_gets_its_own_folder_and_unsure_cells_are_left_out(tmp_path: Path) -> None:
    lines = [f"images/m{i}.png  0.0  mono" for i in range(10)]
    lines += ["images/u.png  0.3333333333333333  mono", "images/b1.png  1.0  mono"]
    lines += ["images/b2.png  0.6666666666666666  mono"]
    lines += [f"images/p{i}.png  0.0  poly" for i in range(5)] + ["images/q.png  1.0  poly"]
    counts = write_layout(_data(tmp_path, lines), tmp_path / "out", seed=3)
    assert counts == {
        "mono": {"train/good": 6, "test/good": 4, "test/crack": 2},
        "poly": {"train/good": 3, "test/good": 2, "test/crack": 1},
    }
    mono = tmp_path / "out" / "mono"
    taught = {p.name for p in (mono / "train" / "good").iterdir()}
    tested = {p.name for p in (mono / "test" / "good").iterdir()}
    assert not taught & tested and taught | tested == {f"m{i}.png" for i in range(10)}
    assert {p.name for p in (mono / "test" / "crack").iterdir()} == {"b1.png", "b2.png"}
    assert (mono / "test" / "crack" / "b1.png").read_bytes() == b"png"  # a link to the image
    # the same seed, the same split
    write_layout(_data(tmp_path / "again", lines), tmp_path / "again" / "out", seed=3)
    again = {p.name for p in (tmp_path / "again" / "out" / "mono" / "train" / "good").iterdir()}
    assert again == taught


def test_a_line_that_is_not_a_label_is_named(tmp_path: Path) -> None:
    data = _data(tmp_path, ["images/a.png  0.0  mono"])
    (data / "labels.csv").write_text("images/a.png 0.0 mono\nimages/b.png half mono\n")
    with pytest.raises(ValueError, match=r"labels.csv:2: expected"):
        read_labels(data)
