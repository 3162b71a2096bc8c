"""Working days as China counts them, for review deadlines (办理期限).

Public holidays are not working days, and some weekends are make-up working days (调休), per the
State Council's yearly schedule (国务院办公厅关于部分节假日安排的通知). The `chinese-calendar`
package carries the published schedules; the administrators' table of overrides
(review.models.WorkdayOverride, in the Django admin) fills in a year the package does not know
yet, or corrects a day, and wins over the package. A year that neither knows counts Monday to
Friday, and the deadline says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import chinese_calendar
from django.utils import timezone

from review.models import WorkdayOverride

log = logging.getLogger("review.workdays")

# The package's holiday names, as an official's notice says them ("含国庆假期").
HOLIDAY_NAMES = {
    chinese_calendar.Holiday.new_years_day.value: "元旦",
    chinese_calendar.Holiday.spring_festival.value: "春节",
    chinese_calendar.Holiday.tomb_sweeping_day.value: "清明",
    chinese_calendar.Holiday.labour_day.value: "劳动节",
    chinese_calendar.Holiday.dragon_boat_festival.value: "端午",
    chinese_calendar.Holiday.national_day.value: "国庆",
    chinese_calendar.Holiday.mid_autumn_festival.value: "中秋",
    chinese_calendar.Holiday.anti_fascist_70th_day.value: "抗战胜利纪念日",
}


@dataclass(frozen=True)
class Day:
    workday: bool
    holiday: str = ""  # the public holiday a day off belongs to ("" for a weekend or a working day)
    known: bool = True  # False: neither the package nor an override knows the year


class Calendar:
    """The days as the schedule and the overrides say. The overrides are read once (one query):
    the table holds a few dozen days a year."""

    def __init__(self) -> None:
        self.overrides = {row.date: row for row in WorkdayOverride.objects.all()}
        self.years_with_overrides = {d.year for d in self.overrides}

    def day(self, d: date) -> Day:
        override = self.overrides.get(d)
        if override is not None:
            return Day(override.is_workday, "" if override.is_workday else override.name)
        try:
            workday = chinese_calendar.is_workday(d)
            _, name = chinese_calendar.get_holiday_detail(d)
        except NotImplementedError:
            # A year the package does not know is known once the administrators entered any day of it.
            return Day(d.weekday() < 5, known=d.year in self.years_with_overrides)
        # A holiday a later version of the package adds is named as a holiday all the same.
        return Day(workday, "" if workday or name is None else HOLIDAY_NAMES.get(name, "其他节日"))


@dataclass(frozen=True)
class Deadline:
    due_at: datetime
    note: str  # what the reader should know about it: "含国庆假期", or a year counted Monday to Friday


def deadline(start: datetime, days: int) -> Deadline:
    """The end of the `days`-th working day after `start` (local time), and its note."""
    current = timezone.localtime(start).date()
    calendar = Calendar()
    holidays: list[str] = []
    unknown_years: list[int] = []
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        day = calendar.day(current)
        if day.workday:
            remaining -= 1
        if day.holiday and day.holiday not in holidays:
            holidays.append(day.holiday)
        if not day.known and current.year not in unknown_years:
            unknown_years.append(current.year)
    due_at = timezone.make_aware(datetime.combine(current, time(23, 59, 59)))
    notes = []
    if holidays:
        notes.append(f"含{'、'.join(holidays)}假期")
    if unknown_years:
        years = "、".join(f"{y}年" for y in unknown_years)
        log.warning("%s的节假日安排未知，办理期限按周一至周五计算；请在管理后台录入工作日调整", years)
        notes.append(f"{years}放假安排未录入，按周一至周五计")
    return Deadline(due_at, "；".join(notes))


def add_working_days(start: datetime, days: int) -> datetime:
    """Return the end of the `days`-th working day after `start`, in local time."""
    return deadline(start, days).due_at
