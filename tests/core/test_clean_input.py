"""Dates stay in a plausible range; names refuse invisible and direction-control characters."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from projects.models import Project, SpecialtyProjectInfo
from tests import factories as f
from tests.projects.formdata import field_errors, form_data
from tests.projects.test_specialty_views import NEW, basic
from tests.review.test_roster_apply import HONGHE, LIAISON, PERMIT, parsed, person
from tests.review.test_roster_parse import person_id
from yunjian.core.validators import date_problem, text_problem

ZWSP, RLO, ZWJ, BOM = "\u200b", "\u202e", "\u200d", "\ufeff"


@pytest.mark.parametrize(
    "value",
    [ZWSP, RLO + "司公限有", "张" + ZWJ + "三", BOM + "设计院", "\u3164", "项目\u2028名称", "名称\x07", "  "],
)
def test_invisible_and_direction_control_text_is_refused(value):
    assert text_problem(value)


@pytest.mark.parametrize(
    "value", ["曲靖市第一人民医院", "Zhang San", "A&B (Yunnan) Co.", "第一行\n第二行\t缩进", ""]
)
def test_ordinary_text_passes(value):
    assert text_problem(value) == ""


def test_every_character_is_judged_by_its_unicode_category():
    """text_problem's fast path for printable text gives the answer of the character-by-character
    rule for every code point of the basic plane (and a few astral ones), inside ordinary text."""
    import unicodedata

    from yunjian.core.validators import ALLOWED_CONTROLS, INVISIBLE_CATEGORIES, INVISIBLE_LETTERS

    wrong = []
    for code in [*range(0x10000), 0x1F600, 0x20000, 0xE0001, 0xF0000, 0x10FFFF]:
        ch = chr(code)
        invisible = ch not in ALLOWED_CONTROLS and (
            unicodedata.category(ch) in INVISIBLE_CATEGORIES or ch in INVISIBLE_LETTERS
        )
        if bool(text_problem(f"名称{ch}A")) != invisible:
            wrong.append(f"U+{code:04X}")
    assert wrong == []
    assert (
        text_problem("\u3000\u3000") == "不能只填写空白字符"
    )  # ideographic spaces: not printable, still blank


@pytest.mark.parametrize("value", [date(1, 1, 1), date(1900, 1, 1), date(1949, 12, 31), date(2999, 1, 1)])
def test_implausible_dates_are_refused(value):
    assert "日期应在1950年1月1日至" in date_problem(value)


@pytest.mark.parametrize(
    "value", [date(1950, 1, 1), date(2019, 10, 24), date.today(), date(date.today().year + 5, 1, 1)]
)
def test_plausible_dates_pass(value):
    assert date_problem(value) == ""


def test_models_refuse_them_in_full_clean(world):
    project = f.make_project("530302", owner=world["owner"])
    project.name = ZWSP
    project.planned_start = date(1, 1, 1)
    with pytest.raises(ValidationError) as caught:
        project.full_clean()
    assert set(caught.value.message_dict) >= {"name", "planned_start"}
    org = world["design"]
    org.name = RLO + "院计设"
    with pytest.raises(ValidationError) as caught:
        org.full_clean()
    assert "不可见字符或文字方向控制字符（U+202E）" in caught.value.message_dict["name"][0]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"project-name": ZWSP}, "name", "不可见字符"),
        ({"project-name": RLO + "程工防消心中展会"}, "name", "文字方向控制字符"),
        ({"project-planned_start": "1900-01-01"}, "planned_start", "日期应在1950年1月1日至"),
        ({"project-planned_start": "0001-01-01"}, "planned_start", "日期应在1950年1月1日至"),
    ],
)
def test_the_entry_forms_refuse_them_with_a_chinese_message(
    client, specialist, world, changes, field, message
):
    client.force_login(specialist)
    data = form_data(
        client.get(NEW).content.decode(), {**basic(world, f.prj_num("530302")), **changes, "action": "submit"}
    )
    response = client.post(NEW, data)
    assert response.status_code == 400
    assert any(message in e for e in field_errors(response.content.decode(), field))
    assert not SpecialtyProjectInfo.objects.exists()
    assert not Project.objects.filter(name__contains=ZWSP).exists()


def test_the_roster_refuses_names_and_titles_with_direction_controls(world):
    parse = parsed(
        [
            person(HONGHE, RLO + "一何", LIAISON, "13800138100"),
            person(HONGHE, "何二", PERMIT, "13800138101", id_number=person_id(200), title=ZWSP),
        ],
        fmt="ods",
    )
    errors = [message for row in parse.rows for _label, message in row.errors]
    assert sum("不可见字符或文字方向控制字符" in message for message in errors) == 2
