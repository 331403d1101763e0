"""Asking before an action that loses something: counts, a taught model, edits, inspection time.

Every such question goes through this module (DESIGN §8: "actions that lose counts, models or
edits ask first, saying what is lost"), so the wording has one shape and tests answer in one
place. Callers use ``confirm.ask(...)`` through the module, never a copied name.

The safe choice (nothing happens, nothing is lost) is the default button and the Escape answer:
an operator who taps Enter or Esc by reflex loses nothing.
"""

from __future__ import annotations

import logging
from enum import Enum

from PySide6.QtWidgets import QMessageBox, QWidget

log = logging.getLogger(__name__)


class Unsaved(Enum):
    """The answer to "discard your changes?"."""

    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"  # stay where you are, changes kept on screen


def ask(
    parent: QWidget | None,
    title: str,
    question: str,
    cost: str,
    *,
    yes: str,
    no: str = "Cancel",
) -> bool:
    """Ask ``question`` and say what it costs; True only when the user chose ``yes``.

    ``yes`` names the action ("Reset counts"), ``no`` the safe way out; ``no`` is the default.
    """
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(title)
    box.setText(question)
    box.setInformativeText(cost)
    yes_button = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
    no_button = box.addButton(no, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(no_button)
    box.setEscapeButton(no_button)
    box.exec()
    agreed = box.clickedButton() is yes_button
    log.info("asked %r: %s", title, "yes" if agreed else "no")
    return agreed


def unsaved_changes(parent: QWidget | None, what: str, cost: str) -> Unsaved:
    """Ask "Discard your changes to ``what``?" with Save / Discard / Cancel (Cancel the default)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Unsaved changes")
    box.setText(f"Discard your changes to {what}?")
    box.setInformativeText(cost)
    save = box.addButton(QMessageBox.StandardButton.Save)
    discard = box.addButton(QMessageBox.StandardButton.Discard)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.exec()
    clicked = box.clickedButton()
    answer = Unsaved.CANCEL
    if clicked is save:
        answer = Unsaved.SAVE
    elif clicked is discard:
        answer = Unsaved.DISCARD
    log.info("asked about unsaved %s: %s", what, answer.value)
    return answer
