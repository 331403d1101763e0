"""Undo of a label given by mistake: the part's label is again what it was before."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.tuning_parts import Part, write_parts

from inspection.tuning.labels import (
    Label,
    LabelError,
    label_history,
    labels_for,
    set_label,
    withdraw_label,
)


def test_withdrawing_restores_the_label_before(db: Path) -> None:
    write_parts(db, [Part(0.2), Part(0.7)])
    first = set_label(db, 2, "good")
    mistake = set_label(db, 2, "defect")
    withdraw_label(db, mistake.id)
    assert labels_for(db, [2])[2].label is Label.GOOD
    assert [x.id for x in label_history(db, 2)] == [first.id]
    only = set_label(db, 1, "escape")
    withdraw_label(db, only.id)
    assert labels_for(db, [1, 2]).keys() == {2}  # part 1 is unlabelled again


def test_a_replaced_or_missing_label_is_not_withdrawn(db: Path) -> None:
    write_parts(db, [Part(0.7)])
    old = set_label(db, 1, "good")
    set_label(db, 1, "defect")
    with pytest.raises(LabelError, match="replaced by a newer one"):
        withdraw_label(db, old.id)
    with pytest.raises(LabelError, match="no label with id 999"):
        withdraw_label(db, 999)
    assert len(label_history(db, 1)) == 2
