"""The station's own settings (not the recipe's): its line, the shift calendar, report export.

A recipe travels between stations; the shifts a plant works and where its reports go belong to
the station, so they live in ``config/station.yaml`` (``Paths.station_file``). The calendar turns
a UNIX time into (production day, shift): the storage writer stamps every part with it when the
part is recorded, so changing the calendar applies from that moment on and never rewrites what
was already reported.

Shift times are wall-clock times in the calendar's time zone. A shift that spans a daylight-saving
switch is one hour shorter or longer (7 or 9 h for an 8-hour shift), never a lost or doubled
hour: its start and end are converted to instants separately. A shift belongs to the production
day it starts on (the 22:00-06:00 shift starting on 4 December is "2026-12-04/Night").
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from inspection.errors import RecipeError
from inspection.paths import written_in_place
from inspection.recipe.common import Strict
from inspection.recipe.opcua import OpcUaSettings
from inspection.recipe.plc import PlcSettings

log = logging.getLogger(__name__)

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ShiftName = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[^/\\\n\r\t]+$")]
ReportFormat = Literal["xlsx", "csv", "pdf"]
REPORT_FORMATS: tuple[ReportFormat, ...] = ("xlsx", "csv", "pdf")


def machine_timezone() -> str:
    """The IANA name of this machine's time zone (``/etc/localtime``), else ``UTC``."""
    try:
        target = Path("/etc/localtime").resolve()
        parts = target.parts
        if "zoneinfo" in parts:
            name = "/".join(parts[parts.index("zoneinfo") + 1 :])
            ZoneInfo(name)
            return name
    except (OSError, ValueError, ZoneInfoNotFoundError):
        pass
    try:
        name = Path("/etc/timezone").read_text(encoding="utf-8").strip()
        ZoneInfo(name)
        return name
    except (OSError, ValueError, ZoneInfoNotFoundError):
        return "UTC"


class ShiftSettings(Strict):
    """One named shift: when it starts and ends (local wall-clock time) and on which days."""

    name: ShiftName
    """How reports and the History page name it (e.g. Early, Late, Night)."""
    start: dt.time
    """Local time the shift starts, e.g. 06:00."""
    end: dt.time
    """Local time it ends; earlier than the start means it ends the next day (a night shift)."""
    weekdays: tuple[Weekday, ...] = WEEKDAYS
    """The days the shift starts on (mon ... sun)."""

    @field_validator("start", "end", mode="before")
    @classmethod
    def _yaml_clock(cls, value: object) -> object:
        # YAML 1.1 reads an unquoted 06:00 as the base-60 number 360 (minutes): take it as 06:00.
        if isinstance(value, int) and not isinstance(value, bool):
            if not 0 <= value < 24 * 60:
                raise ValueError(f"{value} is not a time of day; write it as HH:MM")
            return dt.time(value // 60, value % 60)
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> ShiftSettings:
        if self.start == self.end:
            raise ValueError(f"shift {self.name!r}: start and end are both {self.start:%H:%M}")
        if not self.weekdays:
            raise ValueError(f"shift {self.name!r}: runs on no weekday")
        return self


def _default_shifts() -> tuple[ShiftSettings, ...]:
    return (
        ShiftSettings(name="Early", start=dt.time(6), end=dt.time(14)),
        ShiftSettings(name="Late", start=dt.time(14), end=dt.time(22)),
        ShiftSettings(name="Night", start=dt.time(22), end=dt.time(6)),
    )


@dataclass(frozen=True, slots=True)
class ShiftWindow:
    """One shift on one production day, as instants: ``start <= t < end`` (UNIX seconds)."""

    day: dt.date
    shift: str
    start: float
    end: float

    @property
    def label(self) -> str:
        """``2026-12-04/Early``: how ``lineside report --shift`` names it."""
        return f"{self.day.isoformat()}/{self.shift}"

    @property
    def hours(self) -> float:
        return (self.end - self.start) / 3600.0


class ShiftCalendar(Strict):
    """Named shifts and the time zone they are read in. Shipped default: 06-14, 14-22, 22-06."""

    timezone: str = Field(default_factory=machine_timezone)
    """IANA time zone, e.g. Europe/Berlin (default: this machine's)."""
    shifts: tuple[ShiftSettings, ...] = Field(default_factory=_default_shifts)
    """The shifts; where two overlap, the first listed wins."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)"
            ) from None
        return name

    @field_validator("shifts")
    @classmethod
    def _unique_names(cls, shifts: tuple[ShiftSettings, ...]) -> tuple[ShiftSettings, ...]:
        names = [s.name for s in shifts]
        doubled = sorted({n for n in names if names.count(n) > 1})
        if doubled:
            raise ValueError(f"shift names must differ; {', '.join(doubled)} given twice")
        return shifts

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    # ---- instants ------------------------------------------------------------------------

    def window(self, day: dt.date, shift: str) -> ShiftWindow:
        """The instants of ``shift`` on production day ``day`` (KeyError naming the shifts)."""
        for s in self.shifts:
            if s.name == shift:
                return self._window(day, s)
        known = ", ".join(s.name for s in self.shifts) or "none"
        raise KeyError(f"no shift named {shift!r} (shifts: {known})")

    def _window(self, day: dt.date, s: ShiftSettings) -> ShiftWindow:
        zone = self.zone
        end_day = day + dt.timedelta(days=1) if s.end <= s.start else day
        # Each end converted on its own: a DST switch inside the shift changes its length.
        start = dt.datetime.combine(day, s.start, tzinfo=zone).timestamp()
        end = dt.datetime.combine(end_day, s.end, tzinfo=zone).timestamp()
        return ShiftWindow(day, s.name, start, end)

    def windows_on(self, day: dt.date) -> list[ShiftWindow]:
        """The shifts starting on production day ``day``, in start order."""
        weekday = WEEKDAYS[day.weekday()]
        found = [self._window(day, s) for s in self.shifts if weekday in s.weekdays]
        return sorted(found, key=lambda w: w.start)

    def attribute(self, wall_time: float) -> tuple[str, str]:
        """(production day ISO date, shift name) of a UNIX time; shift "" outside every shift
        (the day is then the local calendar date)."""
        w = self.shift_at(wall_time)
        if w is not None:
            return w.day.isoformat(), w.shift
        return self.local_date(wall_time).isoformat(), ""

    def shift_at(self, wall_time: float) -> ShiftWindow | None:
        today = self.local_date(wall_time)
        for day in (today - dt.timedelta(days=1), today):
            for s in self.shifts:
                if WEEKDAYS[day.weekday()] not in s.weekdays:
                    continue
                w = self._window(day, s)
                if w.start <= wall_time < w.end:
                    return w
        return None

    def local_date(self, wall_time: float) -> dt.date:
        return dt.datetime.fromtimestamp(wall_time, tz=self.zone).date()

    def local_time(self, value: dt.datetime) -> float:
        """A naive local date-time (``--from 2026-12-05T06:00``) as a UNIX time; an aware one
        keeps its own offset."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=self.zone)
        return value.timestamp()

    def parse_local_time(self, text: str, what: str) -> float:
        """``text`` (ISO 8601; naive = this calendar's zone) as a UNIX time; ValueError naming
        ``what`` (e.g. "--from") and showing the expected form."""
        try:
            value = dt.datetime.fromisoformat(text.strip())
        except ValueError:
            raise ValueError(
                f"{what} {text!r} is not an ISO 8601 date-time (e.g. 2026-12-05T06:00)"
            ) from None
        return self.local_time(value)

    def windows_between(self, start: float, end: float) -> Iterator[ShiftWindow]:
        """Every shift window that ends in ``(start, end]``, in end order."""
        first = self.local_date(start) - dt.timedelta(days=1)
        last = self.local_date(end)
        day = first
        found: list[ShiftWindow] = []
        while day <= last:
            found.extend(w for w in self.windows_on(day) if start < w.end <= end)
            day += dt.timedelta(days=1)
        yield from sorted(found, key=lambda w: w.end)

    def last_completed(self, now: float) -> ShiftWindow | None:
        """The latest shift that has ended by ``now`` (within the last 8 days)."""
        found = list(self.windows_between(now - 8 * 86400.0, now))
        return found[-1] if found else None

    def parse_shift(self, text: str) -> ShiftWindow:
        """``2026-12-04/Early`` → its window; ValueError saying what is wrong."""
        day_text, sep, name = text.partition("/")
        if not sep or not name:
            raise ValueError(f"shift {text!r}: expected DAY/NAME, e.g. 2026-12-04/Early")
        try:
            day = dt.date.fromisoformat(day_text.strip())
        except ValueError:
            raise ValueError(f"shift {text!r}: {day_text!r} is not a date (YYYY-MM-DD)") from None
        try:
            return self.window(day, name.strip())
        except KeyError as exc:
            raise ValueError(f"shift {text!r}: {exc.args[0]}") from None


class ReportExportSettings(Strict):
    """Where each shift's report goes by itself when the shift ends."""

    folder: Path | None = None
    """Folder (may be a network share) for the automatic report at each shift end; empty = off."""
    formats: tuple[ReportFormat, ...] = REPORT_FORMATS
    """Which files each automatic report writes."""
    retry_s: float = Field(default=60.0, ge=1.0, le=3600.0)
    """Seconds between attempts while the folder cannot be written."""


class StorageSettings(Strict):
    """What the station does when its disk fills or stops taking results."""

    min_free_gb: float = Field(default=2.0, ge=0.0, le=100_000.0)
    """Warn (and remove the oldest passed parts' images) below this many GB free..."""
    min_free_percent: float = Field(default=5.0, ge=0.0, le=90.0)
    """...or below this share of the disk, whichever is more."""
    record_within_s: float = Field(default=10.0, ge=1.0, le=3600.0)
    """Results not written for this long: the station is no longer ready and inspects no part
    until they are (parts meanwhile are ERROR, "not inspected"), rather than inspect on with
    nowhere to record."""
    queue_max_mb: int = Field(default=512, ge=16, le=65_536)
    """Memory for frames waiting to be archived; beyond it the oldest frames are dropped (their
    records kept, marked "not archived")."""


class StationSettings(Strict):
    """``config/station.yaml``: what belongs to this station whatever recipe it runs."""

    line: str = Field(default="", max_length=80)
    """The production line this station is on (reports name it)."""
    calendar: ShiftCalendar = Field(default_factory=ShiftCalendar)
    reports: ReportExportSettings = Field(default_factory=ReportExportSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    plc: PlcSettings | None = None
    """The PLC link (Modbus TCP); none by default: nothing listens or connects unless set."""
    opcua: OpcUaSettings | None = None
    """The OPC UA server; none by default."""


def load_station_settings(path: Path) -> StationSettings:
    """Read ``path``; a missing file gives the defaults. RecipeError names the file and field."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return StationSettings()
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(f"{where}: cannot be read: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RecipeError(f"{where}: not valid YAML ({exc})") from None
    except (RecursionError, ValueError) as exc:  # "[[[[…", or an int past 4300 digits
        raise RecipeError(f"{where}: not valid YAML ({type(exc).__name__}: {exc})") from None
    if data is None:
        return StationSettings()
    if not isinstance(data, dict):
        raise RecipeError(f"{where}: expected a mapping of fields, got {type(data).__name__}")
    try:
        return StationSettings.model_validate(data)
    except ValidationError as exc:
        lines = []
        for e in exc.errors()[:10]:
            at = ".".join(str(p) for p in e["loc"]) or "(top level)"
            lines.append(f"{where}: {at}: {e['msg']}")
        raise RecipeError("\n".join(lines)) from None


def save_station_settings(path: Path, settings: StationSettings) -> None:
    """Write atomically (a crash mid-write leaves the old file)."""
    data = settings.model_dump(mode="json", exclude_none=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    with written_in_place(path) as tmp:
        tmp.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def station_calendar(path: Path) -> ShiftCalendar:
    """The station's shift calendar from its settings file; the default calendar (and a logged
    warning naming the problem) when the file cannot be read, so a screen still opens."""
    try:
        return load_station_settings(path).calendar
    except RecipeError as exc:
        logging.getLogger(__name__).warning("shifts from the default calendar: %s", exc)
        return ShiftCalendar()
