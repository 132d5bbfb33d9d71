"""How busy a scenic area is on a given day, relative to an ordinary
weekday: weekends, public holidays (from the ``chinese-calendar`` library,
which knows the State Council's schedule with its make-up working days),
National Day week (Oct 1-7) and Spring Festival at their peaks, summer
holidays busier, winter quieter. Years the library does not cover fall back
to a table of Spring Festival dates and the fixed National Day week.
"""
from __future__ import annotations

import datetime as dt
import functools

try:
    import chinese_calendar
except ImportError:  # pragma: no cover - the table below still works
    chinese_calendar = None

# first day (正月初一) of Spring Festival, for years the library may not know
SPRING_FESTIVAL = {2024: dt.date(2024, 2, 10), 2025: dt.date(2025, 1, 29), 2026: dt.date(2026, 2, 17),
                   2027: dt.date(2027, 2, 6), 2028: dt.date(2028, 1, 26), 2029: dt.date(2029, 2, 13),
                   2030: dt.date(2030, 2, 3)}

NATIONAL_DAY_PEAK = 5.0
SPRING_FESTIVAL_PEAK = 3.5
OTHER_HOLIDAY = 2.8
WEEKEND = 1.8
WORKDAY = 1.0


class AreaCalendar:
    def __init__(self, use_library: bool = True):
        self.use_library = use_library and chinese_calendar is not None

    def holiday(self, day: dt.date) -> str | None:
        """The public holiday ``day`` belongs to (English name), or None."""
        if self.use_library:
            try:
                on_holiday, name = chinese_calendar.get_holiday_detail(day)
            except NotImplementedError:
                pass
            else:
                if on_holiday and name is not None:
                    return name
                return None
        if dt.date(day.year, 10, 1) <= day <= dt.date(day.year, 10, 7):
            return "National Day"
        first = SPRING_FESTIVAL.get(day.year)
        if first is not None and first - dt.timedelta(days=1) <= day <= first + dt.timedelta(days=6):
            return "Spring Festival"
        return None

    def working_day(self, day: dt.date) -> bool:
        if self.use_library:
            try:
                return chinese_calendar.is_workday(day)
            except NotImplementedError:
                pass
        return day.weekday() < 5 and self.holiday(day) is None

    @functools.lru_cache(maxsize=4096)
    def weight(self, day: dt.date) -> float:
        holiday = self.holiday(day)
        if holiday == "National Day":
            base = NATIONAL_DAY_PEAK
        elif holiday == "Spring Festival":
            base = SPRING_FESTIVAL_PEAK
        elif holiday is not None:
            base = OTHER_HOLIDAY
        elif not self.working_day(day):
            base = WEEKEND
        else:
            base = WORKDAY
        season = {1: 0.6, 2: 0.7, 3: 0.8, 4: 1.0, 5: 1.1, 6: 1.0, 7: 1.4, 8: 1.5, 9: 1.0, 10: 1.2, 11: 0.8,
                  12: 0.6}[day.month]
        if holiday in ("National Day", "Spring Festival"):
            season = 1.0
        return base * season
