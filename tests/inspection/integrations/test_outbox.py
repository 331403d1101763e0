"""The outbox keeps results in order across restarts, each once, within its cap (counted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspection.integrations.outbox import Outbox, OutboxError


def _items(lo: int, hi: int) -> list[tuple[str, str, bytes]]:
    return [(f"id-{i}", "a/b/c/result", f"payload {i}".encode()) for i in range(lo, hi)]


def test_oldest_first_each_once_and_kept_across_a_restart(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite", max_items=100)
    assert box.put(_items(0, 5)) == 0
    assert box.put(_items(3, 7)) == 0  # 3 and 4 are waiting already: kept once
    assert len(box) == 7
    first = box.oldest(2)
    assert [w.key for w in first] == ["id-0", "id-1"] and first[0].payload == b"payload 0"
    box.done(first[0].seq)
    box.close()

    again = Outbox(tmp_path / "o.sqlite", max_items=100)  # the station started again
    assert len(again) == 6
    assert [w.key for w in again.oldest(10)] == [f"id-{i}" for i in range(1, 7)]
    again.close()


def test_the_cap_drops_the_oldest_and_the_count_survives_a_restart(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite", max_items=4)
    assert box.put(_items(0, 3)) == 0
    assert box.put(_items(3, 7)) == 3
    assert len(box) == 4 and box.dropped == 3
    assert [w.key for w in box.oldest(10)] == ["id-3", "id-4", "id-5", "id-6"]
    box.close()
    assert Outbox(tmp_path / "o.sqlite", max_items=4).dropped == 3


def test_a_file_that_cannot_be_opened_is_named(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("x")
    with pytest.raises(OutboxError, match="not-a-folder"):
        Outbox(tmp_path / "not-a-folder" / "o.sqlite", max_items=4)
