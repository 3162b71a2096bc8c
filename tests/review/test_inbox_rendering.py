"""The inbox's rows and its filter selects are built in Python (issue 15): the markup must be what the
templates rendered before, byte for byte, escaping included."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django import forms
from django.template import engines

from review import inbox_rows
from review.forms import ListSelect
from review.models import Task

# The loop templates/review/inbox.html rendered before review.inbox_rows took it over.
TEMPLATE_LOOP = """{% for t in page.rows %}
    <tr class="state-in_review{% if t.overdue_days %} is-overdue{% endif %}" data-kind="{{ t.kind }}" data-record="{{ t.record_id }}">
      <td>{% if t.record_lock_version is not None and not t.correction_id %}<input type="checkbox" name="items" value="{{ t.kind }}:{{ t.record_id }}:{{ t.record_lock_version }}" aria-label="选择 {{ t.title }}">{% endif %}</td>
      <td class="nowrap">{{ t.get_kind_display }}{% if t.correction_id %} <span class="badge state-in_review correction-mark">更正</span>{% endif %}</td>
      <td class="mono nowrap">{{ t.prj_num }}</td>
      <td><a href="{% if t.correction_id %}{% url 'review:correction' t.correction_id %}{% else %}{% url 'review:record' t.kind t.record_id %}?next={{ here|urlencode }}{% endif %}">{{ t.title }}</a></td>
      <td class="mono">{{ t.number|default:"—" }}</td>
      <td><a href="?{% if filters.kind %}kind={{ filters.kind|urlencode }}&amp;{% endif %}org={{ t.owner_credit_code }}" title="只看该单位">{{ t.owner_name }}</a></td>
      <td>{{ t.step_label }}</td>
      <td class="num">{{ t.revision }}</td>
      <td class="nowrap">{{ t.submitted_at|date:"Y-m-d H:i" }}</td>
      <td class="nowrap">{{ t.due_at|date:"Y-m-d" }}{% if t.due_note %}<br><span class="muted">{{ t.due_note }}</span>{% endif %}{% if t.overdue_days %} <span class="badge overdue">超期 {{ t.overdue_days }} 天</span>{% endif %}</td>
      <td><a class="btn small" href="{% if t.correction_id %}{% url 'review:correction' t.correction_id %}{% else %}{% url 'review:record' t.kind t.record_id %}?next={{ here|urlencode }}{% endif %}">审核</a></td>
    </tr>{% endfor %}"""


def _task(lock: int | None = 3, **overrides) -> Task:
    utc = ZoneInfo("UTC")
    values = {
        "kind": "permit",
        "record_id": 41,
        "revision": 2,
        "step_label": "施工许可审核",
        "title": '曲靖<市>"一中"&扩建',
        "prj_num": "5303022026000001",
        "number": "5303022026010101",
        "submitted_at": datetime(2026, 11, 30, 16, 30, tzinfo=utc),  # 00:30 the next day in 昆明
        "due_at": datetime(2026, 12, 3, 15, 59, tzinfo=utc),
        "due_note": "",
        "correction_id": None,
    }
    values.update(overrides)
    task = Task(**values)
    task.owner_name = "施工<总包>公司 & 子公司"
    task.owner_credit_code = "91530300MA6K000001"
    task.record_lock_version = lock
    task.overdue_days = 0
    return task


ROWS = [
    _task(),
    _task(kind="drawing_review", record_id=7, number="", due_note="含国庆假期 <3 天>"),
    _task(kind="completion", record_id=9, correction_id=12),
    _task(record_id=10, lock=None),
]
ROWS[1].overdue_days = 4


@pytest.mark.parametrize("kind_filter", ["", "permit", "a&b c"])
@pytest.mark.parametrize("here", ["/review/inbox/", "/review/inbox/?kind=permit&q=一中&sort=-due_at"])
def test_rows_are_the_markup_the_template_rendered(settings, kind_filter, here):
    settings.TIME_ZONE = "Asia/Shanghai"
    template = engines["django"].from_string(TEMPLATE_LOOP)
    expected = template.render({"page": {"rows": ROWS}, "here": here, "filters": {"kind": kind_filter}})
    assert inbox_rows.render_rows(ROWS, here=here, kind_filter=kind_filter) == expected


def test_no_rows_render_nothing():
    assert inbox_rows.render_rows([], here="/review/inbox/", kind_filter="") == ""


@pytest.mark.parametrize("value", ["", "530302", "5303<", None])
def test_list_select_is_djangos_select(value):
    choices = [("", "全部"), ("530300", "曲靖市"), ("530302", "　麒麟区"), ("5303<", 'a "<b>" & c')]
    attrs = {"id": "id_division", "data-x": True, "hidden": False}
    expected = forms.Select(choices=choices).render("division", value, attrs=attrs)
    assert ListSelect(choices=choices).render("division", value, attrs=attrs) == expected
