"""`manage.py import_roster FILE [--dry-run] [--json]`: the same checks as the page, JSON lines, exit codes."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from review.models import ReviewerAssignment
from review.roster import parse as roster
from tests.review.test_roster_apply import PERMIT, QUJING, person, qujing_people, roster_bytes
from tests.review.test_roster_parse import ID_X, Sheet, write_xlsx
from yunjian.core.models import AuditEntry, User

pytestmark = pytest.mark.django_db


def run(tmp_path, content: bytes, *args: str, name: str = "汇总表.xlsx") -> tuple[int, str, str]:
    path = tmp_path / name
    path.write_bytes(content)
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_roster", str(path), *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_dry_run_json_prints_one_object_per_line_and_changes_nothing(tmp_path, world):
    code, out, _err = run(tmp_path, roster_bytes(qujing_people()), "--dry-run", "--json")

    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert lines[0] == {"row": 4, "status": "new", "errors": [], "name": "张三", "stage": "liaison"}
    assert [(line["row"], line["status"], line["stage"]) for line in lines] == [
        (4, "new", "liaison"),
        (5, "new", "drawing_review"),
        (6, "new", "permit"),
        (7, "new", "permit"),
    ]
    assert not User.objects.filter(full_name="张三").exists()
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT).exists()


def test_line_errors_exit_1_with_the_errors_in_json(tmp_path, world):
    people = qujing_people()
    people[2][7] = "12345"

    code, out, err = run(tmp_path, roster_bytes(people), "--dry-run", "--json")

    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert lines[2]["status"] == "error"
    assert lines[2]["errors"] == [
        {"column": "联系电话", "message": "联系电话应为11位手机号码或带区号的固定电话（如 0871-64138888）"}
    ]
    assert "有1行错误" in err


def test_line_errors_without_dry_run_apply_nothing(tmp_path, world):
    people = qujing_people()
    people[2][7] = "12345"

    code, _out, _err = run(tmp_path, roster_bytes(people))

    assert code == 1
    assert not ReviewerAssignment.objects.exists()


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"not a spreadsheet at all", "a.xlsx", roster.NOT_SPREADSHEET),
        (b"", "a.xlsx", roster.EMPTY_FILE),
        (write_xlsx(Sheet([["人员名单"], ["张三"]])), "a.xlsx", roster.NO_HEADER.format(limit=20)),
    ],
)
def test_file_errors_exit_2_with_a_chinese_message_on_stderr(tmp_path, world, content, name, message):
    code, out, err = run(tmp_path, content, "--json", name=name)

    assert code == 2
    assert out == ""
    assert err.strip() == message


def test_missing_columns_exit_2(tmp_path, world):
    code, _out, err = run(tmp_path, write_xlsx(Sheet([["姓名", "审核环节"], ["张三", "州（市）联络员"]])))

    assert code == 2
    assert "缺少“单位”列" in err


def test_missing_file_exits_2(tmp_path, world):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("import_roster", str(tmp_path / "none.xlsx"), stdout=out, stderr=err)

    assert exit_.value.code == 2
    assert "无法读取文件" in err.getvalue()


def test_apply_prints_activation_links_and_is_idempotent(tmp_path, world):
    content = roster_bytes(qujing_people())

    code, out, _err = run(tmp_path, content, "--base-url", "https://yunjian.example.cn/")

    assert code == 0
    assert "新建账号4个" in out
    assert "https://yunjian.example.cn/roster/activate/" in out
    assert ReviewerAssignment.objects.count() == 4
    entry = AuditEntry.objects.get(action=AuditEntry.Action.IMPORT)
    assert entry.actor is None
    assert entry.data["source"] == "command"

    code, out, _err = run(tmp_path, content, "--json")

    assert code == 0
    assert {json.loads(line)["status"] for line in out.splitlines()} == {"unchanged"}
    assert ReviewerAssignment.objects.count() == 4
    assert AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT).count() == 2


def test_human_report_lists_removals(tmp_path, world):
    run(tmp_path, roster_bytes(qujing_people()))

    code, out, _err = run(
        tmp_path, roster_bytes([person(QUJING, "李四", PERMIT, "13800138001", id_number=ID_X)]), "--dry-run"
    )

    assert code == 0
    assert "第4行\t新增\t李四" in out
    assert "将删除：张三" in out
    assert "将删除分工4条" in out
