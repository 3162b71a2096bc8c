"""Due dates on China's working days: public holidays are off, make-up weekends (调休) are working
days, per the State Council's schedules of 2024 and 2025 (carried by the chinese-calendar
package), and the administrators' overrides win for a year the package does not know yet.

Expected dates are counted by hand from the published schedules:
- 2025 国庆·中秋: 10-01 to 10-08 off; Sunday 09-28 and Saturday 10-11 are working days.
- 2025 春节: 01-28 to 02-04 off; Sunday 01-26 and Saturday 02-08 are working days.
- 2024 春节: 02-10 to 02-17 off; Sundays 02-04 and 02-18 are working days.
- 2024 国庆: 10-01 to 10-07 off; Sunday 09-29 and Saturday 10-12 are working days.
"""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from django.urls import reverse
from django.utils import timezone

from review import services as rs
from review.models import StageDeadline, Task, WorkdayOverride
from review.workdays import add_working_days, deadline
from tests.review.conftest import submit_permit

pytestmark = pytest.mark.django_db


def at(day: str, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(date.fromisoformat(day), time(hour)))


def end_of(day: str) -> datetime:
    return timezone.make_aware(datetime.combine(date.fromisoformat(day), time(23, 59, 59)))


@pytest.mark.parametrize(
    ("submitted", "days", "due", "note"),
    [
        # An ordinary week: five working days from a Monday end the next Monday; Saturday is off.
        ("2025-03-03", 5, "2025-03-10", ""),
        ("2025-03-07", 1, "2025-03-10", ""),
        ("2025-03-07", 2, "2025-03-11", ""),
        # 国庆 2025: submitted on the eve, five working days are 10-09, 10-10, Saturday 10-11, 10-13, 10-14.
        ("2025-09-30", 5, "2025-10-14", "含国庆、中秋假期"),
        # …from Friday 09-26: Sunday 09-28 is a working day, then 09-29, 09-30, 10-09, 10-10.
        ("2025-09-26", 5, "2025-10-10", "含国庆、中秋假期"),
        # The make-up Saturday after the holiday counts.
        ("2025-10-09", 2, "2025-10-11", ""),
        # 春节 2025: Sunday 01-26 works, 01-28 to 02-04 off, Saturday 02-08 works.
        ("2025-01-24", 3, "2025-02-05", "含春节假期"),
        ("2025-02-06", 2, "2025-02-08", ""),
        ("2025-01-27", 1, "2025-02-05", "含春节假期"),
        # 春节 2024: 02-09 (除夕) is a working day; 02-10 to 02-17 off; Sunday 02-18 works.
        ("2024-02-08", 3, "2024-02-19", "含春节假期"),
        # 国庆 2024: 10-01 to 10-07 off; Saturday 10-12 works.
        ("2024-09-30", 5, "2024-10-12", "含国庆假期"),
    ],
)
def test_due_dates_follow_the_state_council_schedule(submitted, days, due, note):
    result = deadline(at(submitted), days)
    assert result.due_at == end_of(due)
    assert result.note == note
    assert add_working_days(at(submitted), days) == end_of(due)


def test_the_day_of_submission_does_not_count_whatever_the_hour():
    assert deadline(at("2025-03-03", 0), 1).due_at == end_of("2025-03-04")
    assert deadline(at("2025-03-03", 23), 1).due_at == end_of("2025-03-04")


def test_a_year_the_package_does_not_know_counts_monday_to_friday_and_says_so():
    # chinese-calendar 1.11 knows 2004-2026: 2027 comes from the administrators' table or not at all.
    result = deadline(at("2026-12-30"), 5)
    assert result.due_at == end_of("2027-01-06")  # 12-31, 01-01 (Friday), 01-04, 01-05, 01-06
    assert result.note == "2027年放假安排未录入，按周一至周五计"


def test_a_long_deadline_names_the_holiday_and_every_unknown_year_and_warns(caplog):
    with caplog.at_level("WARNING", logger="review.workdays"):
        result = deadline(at("2026-09-30"), 330)
    assert result.due_at.year == 2028
    assert result.note == "含国庆假期；2027年、2028年放假安排未录入，按周一至周五计"
    assert caplog.messages == [
        "2027年、2028年的节假日安排未知，办理期限按周一至周五计算；请在管理后台录入工作日调整"
    ]


def test_overrides_fill_in_a_year_the_package_does_not_know():
    WorkdayOverride.objects.create(date=date(2027, 1, 1), is_workday=False, name="元旦")
    result = deadline(at("2026-12-30"), 5)
    assert result.due_at == end_of("2027-01-07")  # 12-31, 01-04, 01-05, 01-06, 01-07
    assert result.note == "含元旦假期"
    # A make-up Saturday entered for that year counts.
    WorkdayOverride.objects.create(date=date(2027, 1, 2), is_workday=True, name="调休上班")
    result = deadline(at("2026-12-30"), 5)
    assert (result.due_at, result.note) == (end_of("2027-01-06"), "含元旦假期")


def test_an_override_wins_over_the_package():
    # Declared off: the make-up Saturday 2025-10-11 (a correction, say) no longer counts.
    WorkdayOverride.objects.create(date=date(2025, 10, 11), is_workday=False, name="国庆")
    assert deadline(at("2025-10-09"), 2).due_at == end_of("2025-10-13")
    # Declared a working day: 2025-10-08, a holiday in the package, now counts.
    WorkdayOverride.objects.create(date=date(2025, 10, 8), is_workday=True)
    result = deadline(at("2025-10-07"), 1)
    assert result.due_at == end_of("2025-10-08")
    assert result.note == ""


def test_a_day_off_without_a_name_is_skipped_but_not_named():
    WorkdayOverride.objects.create(date=date(2025, 3, 4), is_workday=False)
    result = deadline(at("2025-03-03"), 1)
    assert (result.due_at, result.note) == (end_of("2025-03-05"), "")


def test_a_holiday_the_package_names_but_this_code_does_not_know_is_still_a_holiday(monkeypatch):
    import chinese_calendar

    real = chinese_calendar.get_holiday_detail

    def detail(day):
        return (True, "Some New Day") if day == date(2025, 3, 4) else real(day)

    monkeypatch.setattr(chinese_calendar, "get_holiday_detail", detail)
    monkeypatch.setattr(
        chinese_calendar, "is_workday", lambda day: day.weekday() < 5 and day != date(2025, 3, 4)
    )
    result = deadline(at("2025-03-03"), 1)
    assert (result.due_at, result.note) == (end_of("2025-03-05"), "含其他节日假期")


def test_overrides_far_ahead_are_read_too(django_assert_num_queries):
    """A deadline that runs months ahead sees the overrides all the way, from one query."""
    for day in range(1, 32):  # the administrators closed the whole of March 2025
        WorkdayOverride.objects.create(date=date(2025, 3, day), is_workday=False, name="停办")
    for month, last in ((4, 30), (5, 31)):
        for day in range(1, last + 1):
            WorkdayOverride.objects.create(date=date(2025, month, day), is_workday=False, name="停办")
    with django_assert_num_queries(1):
        result = deadline(at("2025-02-27"), 2)
    assert result.due_at == end_of("2025-06-03")  # 02-28, then 06-03 (06-02 端午)
    assert result.note == "含停办、端午假期"


# --- the inbox row and the pages --------------------------------------------------------------


class FrozenTimezone:
    """`django.utils.timezone` as review.services sees it, with `now` fixed (the rest unchanged)."""

    def __init__(self, now: datetime):
        self._now = now

    def now(self) -> datetime:
        return self._now

    def __getattr__(self, name):
        return getattr(timezone, name)


def test_a_permit_submitted_before_national_day_gets_the_officials_due_date(
    monkeypatch, client, approved_review, contractor, world, reviewer
):
    monkeypatch.setattr(rs, "timezone", FrozenTimezone(at("2025-09-30", 16)))
    permit = submit_permit(contractor, approved_review, world["bureau_qlq"])
    monkeypatch.undo()

    task = Task.objects.get(kind="permit", record_id=permit.pk, status=Task.Status.OPEN)
    assert task.submitted_at == at("2025-09-30", 16)
    assert task.due_at == end_of("2025-10-14")
    assert task.due_note == "含国庆、中秋假期"

    client.force_login(reviewer)
    inbox = client.get(reverse("review:inbox")).content.decode()
    assert '2025-10-14<br><span class="muted">含国庆、中秋假期</span>' in inbox
    page = client.get(reverse("review:record", args=["permit", permit.pk])).content.decode()
    assert "办理期限 2025-10-14（含国庆、中秋假期）" in page


def test_the_stage_deadline_counts_in_working_days(monkeypatch, approved_review, contractor, world):
    StageDeadline.objects.create(key="permit", working_days=10)
    monkeypatch.setattr(rs, "timezone", FrozenTimezone(at("2025-01-20")))
    permit = submit_permit(contractor, approved_review, world["bureau_qlq"])
    monkeypatch.undo()
    task = Task.objects.get(kind="permit", record_id=permit.pk, status=Task.Status.OPEN)
    # 01-21..01-24 (4), Sunday 01-26 (5), 01-27 (6), 春节 01-28..02-04, 02-05..02-07 (9), Saturday 02-08 (10)
    assert (task.due_at, task.due_note) == (end_of("2025-02-08"), "含春节假期")


def test_a_row_without_a_holiday_shows_no_note(client, reviewer, permit_in_review):
    Task.objects.filter(record_id=permit_in_review.pk).update(due_note="")
    client.force_login(reviewer)
    inbox = client.get(reverse("review:inbox")).content.decode()
    assert "假期" not in inbox


# --- the administrators' table ----------------------------------------------------------------


def test_the_system_administrator_enters_a_day_in_the_admin_and_deadlines_follow(client, province_admin):
    client.force_login(province_admin)
    response = client.post(
        reverse("admin:review_workdayoverride_add"),
        {"date": "2027-01-01", "name": "元旦", "note": "国务院办公厅放假通知"},
    )
    assert response.status_code == 302
    override = WorkdayOverride.objects.get()
    assert (override.date, override.is_workday, override.name) == (date(2027, 1, 1), False, "元旦")
    assert deadline(at("2026-12-30"), 5).due_at == end_of("2027-01-07")
    listing = client.get(reverse("admin:review_workdayoverride_changelist")).content.decode()
    assert "元旦" in listing


def test_a_second_entry_for_the_same_day_is_refused_in_chinese(client, province_admin):
    WorkdayOverride.objects.create(date=date(2027, 1, 1), name="元旦")
    client.force_login(province_admin)
    response = client.post(
        reverse("admin:review_workdayoverride_add"), {"date": "2027-01-01", "name": "元旦"}
    )
    assert response.status_code == 200
    assert "具有 日期 的 工作日调整 已存在。" in response.content.decode()
    assert WorkdayOverride.objects.count() == 1


@pytest.mark.parametrize("persona", ["reviewer", "contractor", "outsider"])
def test_other_roles_cannot_reach_the_table(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    for url in (
        reverse("admin:review_workdayoverride_changelist"),
        reverse("admin:review_workdayoverride_add"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert "/admin/login/" in response.url
    response = client.post(reverse("admin:review_workdayoverride_add"), {"date": "2027-01-01"})
    assert response.status_code == 302
    assert not WorkdayOverride.objects.exists()
