"""A form made from a recipe settings model: one row per field, the field's docstring as tooltip.

Every camera kind gets the same kind of form without a screen of its own, and a field added to
the recipe schema appears here by itself. What the engineer types is checked by the recipe's own
validation when the form is used, so the messages are the same as for a recipe file.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Collection
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

# Fields the form leaves alone: the kind itself, and lists that need an editor of their own.
_SKIPPED = {"type"}
_SECRET = {"password"}


def _options(annotation: Any) -> tuple[list[Any], bool]:
    """The annotation's members (without None) and whether None is allowed."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = list(typing.get_args(annotation))
        optional = type(None) in args
        return [a for a in args if a is not type(None)], optional
    return [annotation], False


class SettingsForm(QWidget):
    """Widgets for the fields of ``model``; ``values()`` gives what was typed, as recipe data."""

    def __init__(
        self,
        model: type[BaseModel],
        parent: QWidget | None = None,
        *,
        skip: Collection[str] = (),
    ) -> None:
        """``skip``: fields edited elsewhere (a tool's ROI is drawn on its image)."""
        super().__init__(parent)
        self.model = model
        self.widgets: dict[str, QWidget] = {}
        self._kinds: dict[str, str] = {}
        layout = QFormLayout(self)
        for name, info in model.model_fields.items():
            if name in _SKIPPED or name in skip:
                continue
            members, optional = _options(info.annotation)
            first = members[0]
            widget: QWidget
            if typing.get_origin(first) is typing.Literal and len(members) == 1:
                combo = QComboBox()
                if optional:
                    combo.addItem("", None)
                for value in typing.get_args(first):
                    combo.addItem(str(value), value)
                widget, kind = combo, "choice"
            elif first is bool:
                widget, kind = QCheckBox(), "bool"
            elif first is Path:
                widget, kind = self._path_row(name), "path"
            elif typing.get_origin(first) in (list, dict):
                continue
            else:
                edit = QLineEdit()
                if name in _SECRET:
                    edit.setEchoMode(QLineEdit.EchoMode.Password)
                if info.default is not None and not info.is_required():
                    edit.setPlaceholderText(str(info.default))
                elif optional:
                    edit.setPlaceholderText("(camera's own / none)")
                kinds = {int: "int", float: "float"}
                kind = "int_or_text" if set(members) == {int, str} else kinds.get(first, "text")
                widget = edit
            if info.description:
                widget.setToolTip(info.description)
            widget.setObjectName(f"field_{name}")
            self.widgets[name] = widget
            self._kinds[name] = kind
            label = name.replace("_", " ") + (" *" if info.is_required() else "")
            layout.addRow(label, widget)
        self.set_values({})

    def _path_row(self, name: str) -> QWidget:
        row = QWidget()
        h = QHBoxLayout(row)
        h.setContentsMargins(0, 0, 0, 0)
        edit = QLineEdit()
        edit.setObjectName("path")
        browse = QPushButton("Browse…")

        def choose() -> None:
            # Qt's own dialog follows the dark palette; a desktop's native one opens light
            own = QFileDialog.Option.DontUseNativeDialog
            if name == "path" and self.model.model_fields.get("pattern") is not None:
                chosen = QFileDialog.getExistingDirectory(
                    self, "Folder of images", "", QFileDialog.Option.ShowDirsOnly | own
                )
            else:
                chosen, _ = QFileDialog.getOpenFileName(
                    self, f"Choose the {name}", "", "", options=own
                )
            if chosen:
                edit.setText(chosen)

        browse.clicked.connect(choose)
        h.addWidget(edit, 1)
        h.addWidget(browse)
        return row

    def set_values(self, values: dict[str, Any]) -> None:
        """Show ``values`` (recipe data); fields not given show their defaults."""
        for name, widget in self.widgets.items():
            info = self.model.model_fields[name]
            value = values.get(name, None if info.is_required() else info.default)
            kind = self._kinds[name]
            if kind == "choice":
                assert isinstance(widget, QComboBox)
                index = widget.findData(value)
                widget.setCurrentIndex(max(index, 0))
            elif kind == "bool":
                assert isinstance(widget, QCheckBox)
                widget.setChecked(bool(value))
            elif kind == "path":
                edit = widget.findChild(QLineEdit, "path")
                assert edit is not None
                edit.setText("" if value is None else str(value))
            else:
                assert isinstance(widget, QLineEdit)
                default = info.default if not info.is_required() else None
                # defaults stay empty (shown as placeholder), so the recipe keeps only choices
                widget.setText("" if value is None or value == default else str(value))

    def values(self) -> dict[str, Any]:
        """What the form holds, as recipe data: empty text fields are left out (defaults apply)."""
        out: dict[str, Any] = {}
        for name, widget in self.widgets.items():
            kind = self._kinds[name]
            if kind == "choice":
                assert isinstance(widget, QComboBox)
                value = widget.currentData()
                if value is not None:
                    out[name] = value
            elif kind == "bool":
                assert isinstance(widget, QCheckBox)
                out[name] = widget.isChecked()
            elif kind == "path":
                edit = widget.findChild(QLineEdit, "path")
                assert edit is not None
                if edit.text().strip():
                    out[name] = edit.text().strip()
            else:
                assert isinstance(widget, QLineEdit)
                text = widget.text().strip() if name not in _SECRET else widget.text()
                if not text:
                    continue
                if kind == "int_or_text" and text.isdigit():
                    out[name] = int(text)
                else:
                    # numbers stay text here: the recipe's validation converts them, and names
                    # the field when the text is not a number
                    out[name] = text
        return out
