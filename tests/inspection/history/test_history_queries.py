"""Finding parts: each filter, keyset paging, counts, plans, one part's record."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.history_parts import T0, Part, code_tool, defect_tool, write_parts

from inspection.history.filters import FilterError, PartFilter
from inspection.history.pages import count_matches, explain, find_parts, full_scans
from inspection.history.record import part_record
from inspection.storage.queries import open_reader
from inspection.types import Verdict

FAIL, PASS, ERROR = Verdict.FAIL, Verdict.PASS, Verdict.ERROR
EARLY = ("2026-06-01", "Early")
LATE = ("2026-06-01", "Late")


def _parts() -> list[Part]:
    out = []
    for i in range(30):
        verdict = FAIL if i % 5 == 0 else ERROR if i % 7 == 0 else PASS
        out.append(
            Part(
                verdict=verdict,
                reason="" if verdict is PASS else ("Serial: no code found" if i % 2 else "defect"),
                shift=EARLY if i < 20 else LATE,
                lot="L1" if i < 12 else "L2",
                recipe_version="1" if i < 25 else "2",
                code=f"SN{i:04d}",
                tools=(
                    code_tool(f"SN{i:04d}"),
                    defect_tool(FAIL if verdict is FAIL else PASS, 0.9 if verdict is FAIL else 0.1),
                ),
            )
        )
    return out


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "results.sqlite"
    write_parts(path, _parts())
    return path


def _numbers(db: Path, f: PartFilter, limit: int = 100) -> list[int]:
    conn = open_reader(db)
    try:
        return [r.part_number for r in find_parts(conn, f, limit=limit).rows]
    finally:
        conn.close()


def _expected(pred) -> list[int]:
    return [i + 1 for i, p in reversed(list(enumerate(_parts()))) if pred(i, p)]


def test_no_filter_lists_every_part_newest_first(db: Path) -> None:
    assert _numbers(db, PartFilter()) == list(range(30, 0, -1))


@pytest.mark.parametrize(
    ("f", "pred"),
    [
        (PartFilter(verdicts=frozenset({FAIL})), lambda i, p: p.verdict is FAIL),
        (PartFilter(verdicts=frozenset({FAIL, ERROR})), lambda i, p: p.verdict is not PASS),
        (PartFilter(production_day="2026-06-01", shift="Late"), lambda i, p: p.shift == LATE),
        (
            PartFilter(production_day="2026-06-01", shift="Early", verdicts=frozenset({FAIL})),
            lambda i, p: p.shift == EARLY and p.verdict is FAIL,
        ),
        (PartFilter(lot="L1"), lambda i, p: p.lot == "L1"),
        (PartFilter(recipe_version="2"), lambda i, p: p.recipe_version == "2"),
        (PartFilter(reason="SERIAL"), lambda i, p: "Serial" in p.reason),
        (PartFilter(tool="surface"), lambda i, p: p.verdict is FAIL),
        (PartFilter(text="SN0007"), lambda i, p: i == 7),
        (PartFilter(text="SN001"), lambda i, p: 10 <= i <= 19),
        (PartFilter(text="#12"), lambda i, p: i == 11),
        (PartFilter(text="run1-00003"), lambda i, p: i == 3),
        (PartFilter(start=T0 + 50, end=T0 + 100), lambda i, p: 5 <= i < 10),
        (PartFilter(start=T0 + 250), lambda i, p: i >= 25),
        (PartFilter(station="st1", lot="L2"), lambda i, p: p.lot == "L2"),
        (PartFilter(station="elsewhere"), lambda i, p: False),
    ],
)
def test_each_filter_finds_exactly_its_parts(db: Path, f: PartFilter, pred) -> None:
    assert _numbers(db, f) == _expected(pred)
    conn = open_reader(db)
    try:
        assert count_matches(conn, f) == (len(_expected(pred)), False)
    finally:
        conn.close()


def test_paging_walks_every_match_once_in_order(db: Path) -> None:
    conn = open_reader(db)
    f = PartFilter(verdicts=frozenset({FAIL, ERROR}))
    seen: list[int] = []
    before = None
    pages = 0
    while True:
        page = find_parts(conn, f, before=before, limit=3)
        seen += [r.part_number for r in page.rows]
        pages += 1
        if page.next_before is None:
            break
        before = page.next_before
    conn.close()
    assert seen == _expected(lambda i, p: p.verdict is not PASS)
    assert pages == -(-len(seen) // 3)


def test_a_page_row_carries_the_parts_facts(db: Path) -> None:
    conn = open_reader(db)
    row = find_parts(conn, PartFilter(text="SN0020"), limit=5).rows[0]
    conn.close()
    assert row.part_number == 21 and row.verdict is FAIL
    assert (row.production_day, row.shift, row.lot, row.recipe_version) == (*LATE, "L2", "1")
    assert row.codes == ("SN0020",) and row.wall_time == T0 + 200
    assert row.inspection_id == "run1-00020" and row.station == "st1"


def test_count_stops_at_its_cap(db: Path) -> None:
    conn = open_reader(db)
    assert count_matches(conn, PartFilter(), limit=10) == (10, True)
    assert count_matches(conn, PartFilter(verdicts=frozenset({FAIL, ERROR})), limit=3) == (3, True)
    assert count_matches(conn, PartFilter(), limit=None) == (30, False)
    conn.close()


@pytest.mark.parametrize(
    "f",
    [
        PartFilter(production_day="2026-06-01", shift="Early"),
        PartFilter(production_day="2026-06-01", shift="Early", verdicts=frozenset({FAIL, ERROR})),
        PartFilter(lot="L2"),
        PartFilter(lot="L2", verdicts=frozenset({FAIL})),
        PartFilter(text="SN0007"),
        PartFilter(text="7"),
        PartFilter(start=T0, end=T0 + 3600),
        PartFilter(verdicts=frozenset({FAIL})),
        PartFilter(tool="surface"),
    ],
    ids=["shift", "shift-rejects", "lot", "lot-fail", "code", "number", "time", "fail", "tool"],
)
def test_indexed_filters_never_scan_every_part(db: Path, f: PartFilter) -> None:
    conn = open_reader(db)
    plan = explain(conn, f)
    conn.close()
    assert not full_scans(plan), plan


def test_bad_filters_are_refused_with_the_field_named() -> None:
    with pytest.raises(FilterError, match="time range"):
        PartFilter(start=T0 + 10, end=T0)
    with pytest.raises(FilterError, match="production day"):
        PartFilter(shift="Early")
    with pytest.raises(FilterError, match="verdicts"):
        PartFilter(verdicts=frozenset({"OK"}))  # type: ignore[arg-type]


def test_a_parts_record_has_tools_timings_models_and_overlays(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite"
    archive = tmp_path / "images"
    parts = [
        Part(
            verdict=FAIL,
            reason="defect",
            image=True,
            tools=(code_tool("SN1"), defect_tool(FAIL, 0.9)),
        )
    ]
    ids = write_parts(db, parts, archive)
    conn = open_reader(db)
    record = part_record(conn, ids[0], archive)
    assert part_record(conn, "no-such-part", archive) is None
    conn.close()
    assert record is not None
    assert record.part.verdict is FAIL and record.recipe_name == "demo"
    assert record.model_hashes == {"surface": "ab" * 32}
    assert set(record.timings_ms) >= {"queued_ms", "decided_ms", "stored_ms"}
    assert [t.tool_id for t in record.tools] == ["serial", "surface"]
    surface = record.tools[1]
    assert surface.verdict is FAIL and surface.measurements["score"] == 0.9
    assert surface.score == 0.9 and surface.threshold == 0.5
    assert surface.details["regions"][0]["w"] == 12
    assert record.image_exists and record.image == archive / parts_image(ids[0])
    assert record.images == (record.image,)
    shapes = {(s.tool_id, s.label, s.ok): s.points for s in record.overlays}
    assert shapes[("serial", "SN1", True)][0] == (10.0, 10.0)
    assert shapes[("surface", "0.90", False)] == ((50, 20), (62, 20), (62, 28), (50, 28))


def parts_image(inspection_id: str) -> str:
    return f"2026-06-01/{inspection_id}__cam1.png"


def test_a_missing_archived_image_is_said_so(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite"
    archive = tmp_path / "images"
    ids = write_parts(db, [Part(verdict=FAIL, image=True)], archive)
    (archive / parts_image(ids[0])).unlink()
    conn = open_reader(db)
    record = part_record(conn, ids[0], archive)
    conn.close()
    assert record is not None and record.image is not None and not record.image_exists


def test_no_filter_names_a_person() -> None:
    from dataclasses import fields

    from inspection.history.export import CSV_COLUMNS
    from inspection.history.pages import PartRow

    person = ("operator", "user", "person", "worker", "employee", "name", "badge", "login")
    names = [f.name for f in fields(PartFilter)] + [f.name for f in fields(PartRow)]
    names += list(CSV_COLUMNS)
    assert not [n for n in names if any(p in n.lower() for p in person)], names


def test_a_wide_time_range_is_walked_by_id_and_finds_the_same_parts(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = PartFilter(start=T0 + 50, end=T0 + 200, verdicts=frozenset({FAIL, ERROR}))
    narrow = _numbers(db, f, limit=2)
    monkeypatch.setattr("inspection.history.pages.WIDE_TIME_RANGE", 3)
    conn = open_reader(db)
    plan = explain(conn, PartFilter(start=T0 + 50, end=T0 + 200))
    conn.close()
    # the range's newest id bounds a walk down the table, not a sort of the time index
    assert "INTEGER PRIMARY KEY (rowid<?)" in plan and not full_scans(plan), plan
    assert _numbers(db, f, limit=2) == narrow
    assert _numbers(db, f) == _expected(lambda i, p: 5 <= i < 20 and p.verdict is not PASS)
