"""Where a report's records come from: this station's own database, or the plant's PostgreSQL
database that the stations' ``postgres`` outputs write (every station, or one of them).

The plant's address is a libpq DSN (``host=... port=... dbname=... user=...``); the password,
when the DSN and libpq's own ``PGPASSWORD`` / ``~/.pgpass`` do not give it, is typed here and
kept only while the page is open: never saved, logged or shown. The plant modules (psycopg) are
loaded only when a plant report is asked for, not at every start of the window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QRadioButton,
    QWidget,
)

if TYPE_CHECKING:
    from inspection.reports.plant import PlantDatabase

DEFAULT_SCHEMA = "lineside"
DSN_EXAMPLE = "host=plant-db port=5432 dbname=plant user=quality"


class ReportSource(QGroupBox):
    """ "This station" or "Plant database" (its DSN, schema, one station or all, password)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Records", parent)
        self.station_radio = QRadioButton("This station")
        self.plant_radio = QRadioButton("Plant database (every station's records)")
        self.station_radio.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.station_radio)
        group.addButton(self.plant_radio)
        self.dsn_edit = QLineEdit()
        self.dsn_edit.setPlaceholderText(DSN_EXAMPLE)
        self.schema_edit = QLineEdit(DEFAULT_SCHEMA)
        self.station_edit = QLineEdit()
        self.station_edit.setPlaceholderText("every station")
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText("from the DSN, PGPASSWORD or ~/.pgpass")

        grid = QGridLayout(self)
        grid.addWidget(self.station_radio, 0, 0)
        grid.addWidget(self.plant_radio, 0, 1, 1, 3)
        self._plant_fields: list[QWidget] = []
        for row, col, label, edit in (
            (1, 0, "Database (DSN)", self.dsn_edit),
            (1, 2, "Schema", self.schema_edit),
            (2, 0, "Station", self.station_edit),
            (2, 2, "Password", self.password_edit),
        ):
            caption = QLabel(label)
            grid.addWidget(caption, row, col)
            grid.addWidget(edit, row, col + 1)
            self._plant_fields += [caption, edit]
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(3, 1)
        self.plant_radio.toggled.connect(self._enable)
        self._enable(False)

    def _enable(self, plant: bool) -> None:
        # hidden, not only greyed: on a 768-px screen the charts need the height
        for widget in self._plant_fields:
            widget.setEnabled(plant)
            widget.setVisible(plant)

    def from_plant(self) -> bool:
        return self.plant_radio.isChecked()

    def plant(self) -> PlantDatabase:
        """The plant database the fields name; ValueError or PlantDatabaseError (a
        LinesideError) saying what is missing or wrong."""
        dsn = self.dsn_edit.text().strip()
        if not dsn:
            raise ValueError(f"enter the plant database's address, e.g. {DSN_EXAMPLE}")
        from inspection.reports.plant import PlantDatabase

        return PlantDatabase(
            dsn,
            schema=self.schema_edit.text().strip() or DEFAULT_SCHEMA,
            password=self.password_edit.text() or None,
        )

    def station(self) -> str | None:
        """The one station to report on, or None for every station."""
        return self.station_edit.text().strip() or None
