"""The station settings' "Disk and recording" box: when to warn of low space, and how long
results may go unwritten before the station stops inspecting."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QDoubleSpinBox, QFormLayout, QGroupBox, QLabel, QSpinBox, QWidget

from inspection.recipe.station import StorageSettings


def _spin(low: float, high: float, value: float, suffix: str, decimals: int) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(low, high)
    spin.setDecimals(decimals)
    spin.setSuffix(suffix)
    spin.setValue(value)
    return spin


class StorageSettingsBox(QGroupBox):
    """Edits ``StationSettings.storage``; ``values()`` gives its fields for validation."""

    def __init__(self, settings: StorageSettings, parent: QWidget | None = None) -> None:
        super().__init__("Disk and recording", parent)
        self.setObjectName("storageSettings")
        self.free_gb = _spin(0.0, 100_000.0, settings.min_free_gb, " GB", 1)
        self.free_percent = _spin(0.0, 90.0, settings.min_free_percent, " %", 1)
        self.record_within = _spin(1.0, 3600.0, settings.record_within_s, " s", 0)
        self.queue_mb = QSpinBox()
        self.queue_mb.setRange(16, 65_536)
        self.queue_mb.setSuffix(" MB")
        self.queue_mb.setValue(settings.queue_max_mb)
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        form = QFormLayout(self)
        form.addRow("Warn below (free):", self.free_gb)
        form.addRow("or below (of the disk):", self.free_percent)
        form.addRow("Stop inspecting when results go unwritten for:", self.record_within)
        form.addRow("Memory for images waiting to be written:", self.queue_mb)
        form.addRow("", self.error)
        for spin, tip in (
            (self.free_gb, "Below this much free space the station warns and removes the "
             "oldest passed parts' images first (failed parts' images stay)."),
            (self.record_within, "While results cannot be written (disk full), the station "
             "is not ready and marks every part ERROR uninspected, after this long."),
        ):  # fmt: skip
            spin.setToolTip(tip)

    def values(self) -> dict[str, Any]:
        return {
            "min_free_gb": float(self.free_gb.value()),
            "min_free_percent": float(self.free_percent.value()),
            "record_within_s": float(self.record_within.value()),
            "queue_max_mb": int(self.queue_mb.value()),
        }
