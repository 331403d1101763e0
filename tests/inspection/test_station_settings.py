"""The station's shift calendar: windows, attribution, daylight-saving nights, the settings file."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest

from inspection.errors import RecipeError
from inspection.recipe.station import (
    ShiftCalendar,
    ShiftSettings,
    StationSettings,
    load_station_settings,
    save_station_settings,
)

BERLIN = ShiftCalendar(timezone="Europe/Berlin")  # the shipped three shifts, a DST zone


def local(text: str) -> float:
    """A Berlin wall-clock time as a UNIX time."""
    return BERLIN.local_time(dt.datetime.fromisoformat(text))


def test_default_calendar_is_three_eight_hour_shifts() -> None:
    names = [(s.name, s.start, s.end) for s in StationSettings().calendar.shifts]
    assert names == [
        ("Early", dt.time(6), dt.time(14)),
        ("Late", dt.time(14), dt.time(22)),
        ("Night", dt.time(22), dt.time(6)),
    ]
    windows = BERLIN.windows_on(dt.date(2026, 12, 4))
    assert [(w.label, w.hours) for w in windows] == [
        ("2026-12-04/Early", 8.0),
        ("2026-12-04/Late", 8.0),
        ("2026-12-04/Night", 8.0),
    ]


def test_night_shift_belongs_to_the_day_it_starts_on() -> None:
    assert BERLIN.attribute(local("2026-12-04T23:30")) == ("2026-12-04", "Night")
    assert BERLIN.attribute(local("2026-12-05T05:59:59")) == ("2026-12-04", "Night")
    assert BERLIN.attribute(local("2026-12-05T06:00")) == ("2026-12-05", "Early")
    assert BERLIN.attribute(local("2026-12-05T13:59:59")) == ("2026-12-05", "Early")
    assert BERLIN.attribute(local("2026-12-05T14:00")) == ("2026-12-05", "Late")


@pytest.mark.parametrize(
    ("night", "hours", "day_hours"),
    [(dt.date(2026, 3, 28), 7.0, 23.0), (dt.date(2026, 10, 24), 9.0, 25.0)],
    ids=["spring-forward", "fall-back"],
)
def test_dst_night_is_seven_or_nine_hours_with_no_lost_or_doubled_hour(
    night: dt.date, hours: float, day_hours: float
) -> None:
    w = BERLIN.window(night, "Night")
    assert w.hours == hours
    # Every minute of the switch night belongs to exactly that shift: none falls outside it.
    t = w.start
    while t < w.end:
        assert BERLIN.attribute(t) == (night.isoformat(), "Night"), t
        t += 60.0
    assert BERLIN.attribute(w.end)[1] == "Early"
    assert BERLIN.attribute(w.start - 1)[1] == "Late"
    # The three shifts starting that day tile it with no gap and no overlap.
    windows = BERLIN.windows_on(night)
    assert sum(x.hours for x in windows) == day_hours
    assert all(a.end == b.start for a, b in itertools.pairwise(windows))


def test_outside_every_shift_is_the_local_date_and_no_shift() -> None:
    weekdays = ShiftCalendar(
        timezone="Europe/Berlin",
        shifts=(
            ShiftSettings(
                name="Day",
                start=dt.time(7),
                end=dt.time(15, 30),
                weekdays=("mon", "tue", "wed", "thu", "fri"),
            ),
        ),
    )
    saturday = local("2026-12-05T10:00")  # 5 Dec 2026 is a Saturday
    assert weekdays.attribute(saturday) == ("2026-12-05", "")
    assert weekdays.attribute(local("2026-12-04T10:00")) == ("2026-12-04", "Day")
    assert weekdays.attribute(local("2026-12-04T16:00")) == ("2026-12-04", "")


def test_shift_windows_between_and_last_completed() -> None:
    now = local("2026-12-05T15:00")
    last = BERLIN.last_completed(now)
    assert last is not None and last.label == "2026-12-05/Early"
    ended = [w.label for w in BERLIN.windows_between(local("2026-12-04T13:00"), now)]
    assert ended == ["2026-12-04/Early", "2026-12-04/Late", "2026-12-04/Night", "2026-12-05/Early"]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("2026-12-04", "expected DAY/NAME"),
        ("04.12.2026/Early", "is not a date"),
        ("2026-12-04/Lunch", "no shift named 'Lunch'"),
    ],
)
def test_bad_shift_names_say_what_is_wrong(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        BERLIN.parse_shift(text)


def test_settings_file_round_trip_and_unquoted_yaml_times(tmp_path: Path) -> None:
    path = tmp_path / "station.yaml"
    assert load_station_settings(path) == StationSettings()  # no file: the defaults
    path.write_text(
        "line: Line 4\n"
        "calendar:\n"
        "  timezone: America/New_York\n"
        "  shifts:\n"
        "    - {name: A, start: 06:30, end: 18:30}\n"  # YAML reads 06:30 as the number 390
        "    - {name: B, start: '18:30', end: '06:30', weekdays: [mon, tue]}\n",
        encoding="utf-8",
    )
    settings = load_station_settings(path)
    assert settings.line == "Line 4"
    assert settings.calendar.shifts[0].start == dt.time(6, 30)
    assert settings.calendar.shifts[1].weekdays == ("mon", "tue")
    save_station_settings(path, settings)
    assert load_station_settings(path) == settings


@pytest.mark.parametrize(
    ("body", "where", "why"),
    [
        ("calendar: {timezone: Mars/Olympus}", "calendar.timezone", "unknown time zone"),
        (
            "calendar: {shifts: [{name: A, start: '06:00', end: '14:00'}, "
            "{name: A, start: '14:00', end: '22:00'}]}",
            "calendar.shifts",
            "given twice",
        ),
        (
            "calendar: {shifts: [{name: A, start: '06:00', end: '06:00'}]}",
            "calendar.shifts.0",
            "start and end are both 06:00",
        ),
        ("reports: {formats: [docx]}", "reports.formats.0", "xlsx"),
        ("shifts: []", "shifts", "Extra inputs"),
        ("- a list", "(top level)", "expected a mapping"),
    ],
)
def test_bad_settings_name_the_file_and_the_field(
    tmp_path: Path, body: str, where: str, why: str
) -> None:
    path = tmp_path / "station.yaml"
    path.write_text(body + "\n", encoding="utf-8")
    with pytest.raises(RecipeError) as err:
        load_station_settings(path)
    msg = str(err.value)
    assert str(path) in msg and why in msg
    if where != "(top level)":
        assert where in msg
