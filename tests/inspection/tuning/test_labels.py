"""Labels: stored apart from the record, newest wins, history kept; CSV import."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from support.tuning_parts import Part, write_parts

from inspection.errors import LinesideError
from inspection.tuning.label_import import import_labels_csv
from inspection.tuning.labels import (
    Label,
    LabelError,
    label_history,
    labels_for,
    parse_label,
    set_label,
)


def checksum(db: Path) -> str:
    """A digest of every inspections and tool_results row, in id order."""
    digest = hashlib.sha256()
    with sqlite3.connect(db) as conn:
        for table in ("inspections", "tool_results"):
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY id"):
                digest.update(repr(row).encode())
    return digest.hexdigest()


def test_labels_never_change_inspection_rows(db: Path) -> None:
    ids = write_parts(db, [Part(0.2), Part(0.7), Part(0.3)])
    before = checksum(db)
    set_label(db, ids[1], "defect", "scratch seen")
    set_label(db, 1, Label.GOOD, tool="surface")
    (db.parent / "l.csv").write_text(f"inspection_id,label\n{ids[2]},escape\n")
    assert import_labels_csv(db, db.parent / "l.csv").stored == 1
    assert checksum(db) == before


def test_the_newest_label_wins_and_the_older_stay(db: Path) -> None:
    ids = write_parts(db, [Part(0.2), Part(0.7)])
    first = set_label(db, ids[1], "defect", "looked bad", at=100.0)
    second = set_label(db, 2, "GOOD", "reworked: fine", at=200.0)
    assert (first.inspection, second.inspection) == (2, 2)
    now = labels_for(db, [1, 2])
    assert set(now) == {2}
    assert now[2].label is Label.GOOD and now[2].reason == "reworked: fine"
    history = label_history(db, ids[1])
    assert [(h.label, h.labelled_at, h.source) for h in history] == [
        (Label.DEFECT, 100.0, "review"),
        (Label.GOOD, 200.0, "review"),
    ]


def test_a_tools_label_and_the_parts_label(db: Path) -> None:
    write_parts(db, [Part(0.2)])
    set_label(db, 1, "defect", tool="label", at=1.0)
    set_label(db, 1, "good", at=2.0)  # the part as a whole
    set_label(db, 1, "unsure", tool="surface", at=3.0)
    assert labels_for(db, [1], tool="label")[1].label is Label.GOOD
    assert labels_for(db, [1], tool="surface")[1].label is Label.UNSURE
    assert labels_for(db, [1], tool="other")[1].label is Label.GOOD


def test_label_words_and_their_synonyms() -> None:
    assert parse_label(" Defect ") is Label.DEFECT
    assert parse_label("NG") is Label.DEFECT and parse_label("bad") is Label.DEFECT
    assert parse_label("ok") is Label.GOOD
    with pytest.raises(LabelError, match="unknown label 'maybe'; labels are defect, good, escape"):
        parse_label("maybe")


def test_labelling_an_unknown_part_says_which(db: Path) -> None:
    write_parts(db, [Part(0.2)])
    with pytest.raises(LabelError, match="no part with inspection id 'run9-1'"):
        set_label(db, "run9-1", "good")
    with pytest.raises(LabelError, match="no part with row id 42"):
        set_label(db, 42, "good")


def test_csv_import_of_good_lines(db: Path, tmp_path: Path) -> None:
    ids = write_parts(db, [Part(0.2), Part(0.7), Part(0.3)])
    f = tmp_path / "rework.csv"
    f.write_text(
        f"Inspection,Label,Reason\n{ids[0]},OK,\n\n{ids[1]},ng,dent\n{ids[2]},Escape,found at EOL\n"
    )
    result = import_labels_csv(db, f, at=5.0)
    assert result.ok and result.lines == 3 and result.stored == 3
    assert result.by_label == {"good": 1, "defect": 1, "escape": 1}
    now = labels_for(db, [1, 2, 3])
    assert [now[i].label for i in (1, 2, 3)] == [Label.GOOD, Label.DEFECT, Label.ESCAPE]
    assert now[2].reason == "dent" and now[3].source == "import:rework.csv"


def test_csv_with_bad_lines_imports_nothing_and_lists_them(db: Path, tmp_path: Path) -> None:
    ids = write_parts(db, [Part(0.2), Part(0.7)])
    f = tmp_path / "list.csv"
    f.write_text(f"part,label\n{ids[0]},good\n{ids[1]},maybe\nrun1-99999,defect\n,good\n")
    result = import_labels_csv(db, f)
    assert result.stored == 0 and not result.ok
    assert result.errors == (
        "line 3: unknown label 'maybe'; labels are defect, good, escape, unsure",
        "line 4: no part with inspection id run1-99999",
        "line 5: no inspection id",
    )
    assert labels_for(db, [1, 2]) == {}
    partial = import_labels_csv(db, f, partial=True)
    assert partial.stored == 1 and partial.errors_total == 3
    assert labels_for(db, [1])[1].label is Label.GOOD


def test_an_excel_saved_csv_imports(db: Path, tmp_path: Path) -> None:
    ids = write_parts(db, [Part(0.2), Part(0.7)])
    f = tmp_path / "excel.csv"
    # Excel's "CSV UTF-8" on a German Windows: byte-order mark, semicolons, CRLF
    text = f"inspection_id;label;reason\r\n{ids[0]};Gut ist ok;\r\n{ids[1]};defect;Kratzer\r\n"
    f.write_bytes(text.replace("Gut ist ok", "good").encode("utf-8-sig"))
    result = import_labels_csv(db, f)
    assert result.ok and result.stored == 2, result.errors
    assert labels_for(db, [2])[2].reason == "Kratzer"


def test_a_csv_without_the_columns_is_refused(db: Path, tmp_path: Path) -> None:
    write_parts(db, [Part(0.2)])
    f = tmp_path / "wrong.csv"
    f.write_text("serial,result\nA,good\n")
    with pytest.raises(LinesideError, match=r"a part column .*and label \(found: serial, result"):
        import_labels_csv(db, f)
