"""load_records: exit codes, --json, every kind of bad input, idempotency and conflicts."""

from __future__ import annotations

import json

import pytest

from loads.models import LoadedRecord, LoadJob
from projects import services as ps
from projects.models import ConstructionPermit, DrawingReview, Project
from tests.loads import exports as x
from tests.loads.helpers import load
from yunjian.core.models import AuditEntry, Organization

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        Project.objects.count(),
        DrawingReview.objects.count(),
        ConstructionPermit.objects.count(),
        Organization.objects.count(),
        LoadedRecord.objects.count(),
        LoadJob.objects.count(),
    )


def rows_of(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def test_json_prints_one_object_per_row_and_exit_0(pms_files):
    code, out, _err = load(pms_files["projects"], pms_files["censors"], "--json")
    assert code == 0
    rows = rows_of(out)
    assert [(r["table"], r["row"], r["status"], r["errors"]) for r in rows] == [
        ("TBProjectInfo", 2, "new", []),
        ("TBProjectCensorInfo", 2, "new", []),
    ]
    assert rows[1]["number"] == f"{pms_files['prj']}-TX-001"


def test_dry_run_changes_nothing(pms_files):
    before = snapshot()
    code, out, _err = load(pms_files["projects"], pms_files["censors"], "--dry-run", "--json")
    assert code == 0
    assert [r["status"] for r in rows_of(out)] == ["new", "new"]
    assert snapshot() == before


def test_the_same_file_twice_changes_nothing(pms_files):
    files = (pms_files["projects"], pms_files["censors"], pms_files["permits"])
    assert load(*files)[0] == 0
    before = snapshot()[:5]
    versions = list(DrawingReview.objects.values_list("lock_version", flat=True))
    code, out, _err = load(*files, "--json")
    assert code == 0
    assert {r["status"] for r in rows_of(out)} == {"unchanged"}
    assert snapshot()[:5] == before
    assert list(DrawingReview.objects.values_list("lock_version", flat=True)) == versions


def test_load_is_audited_once_with_the_files_digest(pms_files):
    load(pms_files["projects"], pms_files["censors"], pms_files["permits"])
    entries = AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT, object_type="load_job")
    assert entries.count() == 1
    files = entries.get().data["files"]
    assert {f["table"] for f in files} == {"TBProjectInfo", "TBProjectCensorInfo", "TBBuilderLicenceManage"}
    assert all(len(f["sha256"]) == 64 for f in files)


def test_newer_export_updates_untouched_records_and_reports_a_conflict_for_edited_ones(
    pms_files, tmp_path, world, designer
):
    load(pms_files["projects"], pms_files["censors"], pms_files["permits"])
    prj = pms_files["prj"]
    newer = x.write(
        tmp_path / "censors2.csv",
        x.CENSOR_HEADER,
        [
            [
                f"{prj}-TX-001",
                prj,
                "审图中心",
                world["institution"].credit_code,
                "2020-02-03",
                "设计院",
                world["design"].credit_code,
                "0",
            ]
        ],
    )
    code, out, _err = load(newer, "--json")
    assert code == 0
    assert rows_of(out)[0]["status"] == "updated"
    review = DrawingReview.objects.get()
    assert (str(review.censor_date), review.one_pass) == ("2020-02-03", False)
    # The design unit edits it: a yet newer export must not overwrite that work.
    ps.drawing_review_update(actor=designer, review_id=review.pk, data={"violations_count": 2})
    newest = x.write(
        tmp_path / "censors3.csv",
        x.CENSOR_HEADER,
        [
            [
                f"{prj}-TX-001",
                prj,
                "审图中心",
                world["institution"].credit_code,
                "2020-02-05",
                "设计院",
                world["design"].credit_code,
                "0",
            ]
        ],
    )
    code, out, _err = load(newest, "--json")
    assert code == 1
    row = rows_of(out)[0]
    assert row["status"] == "conflict"
    assert row["differences"] == [{"column": "审查完成日期", "ours": "2020-02-03", "theirs": "2020-02-05"}]
    review.refresh_from_db()
    assert str(review.censor_date) == "2020-02-03"
    assert review.violations_count == 2


def test_unknown_organisation_is_created_unverified_and_listed(pms_files, tmp_path, world):
    prj = pms_files["prj"]
    new_code = x.code("91530302")
    similar = world["design"].name  # the same name as an existing unit: never merged
    censors = x.write(
        tmp_path / "c.csv",
        x.CENSOR_HEADER,
        [
            [
                f"{prj}-TX-009",
                prj,
                "审图中心",
                world["institution"].credit_code,
                "2020-02-01",
                similar,
                new_code,
                "1",
            ]
        ],
    )
    code, out, _err = load(pms_files["projects"], censors)
    assert code == 0
    assert new_code in out
    org = Organization.objects.get(credit_code=new_code)
    assert (org.is_verified, org.name, org.has_kind("design")) == (False, similar, True)
    assert DrawingReview.objects.get().owner_org == org
    assert world["design"].pk != org.pk


def test_row_whose_project_is_unknown_is_refused_with_the_reason(pms_files):
    code, out, _err = load(pms_files["censors"], "--json")
    assert code == 1
    row = rows_of(out)[0]
    assert row["status"] == "error"
    assert "项目编号" in row["errors"][0]["message"]
    assert "不存在" in row["errors"][0]["message"]
    assert DrawingReview.objects.count() == 0


def test_chinese_headers_gb18030_and_jsonl_and_xlsx(tmp_path, world, pms_files):
    header = [
        "项目编号",
        "项目名称",
        "项目分类",
        "建设单位名称",
        "建设单位统一社会信用代码",
        "项目所在区县",
        "总投资（万元）",
        "实际开工日期",
    ]
    row = [
        "5303022001160001",
        "曲靖某学校",
        "01",
        world["owner"].name,
        world["owner"].credit_code,
        "530302",
        "800",
        "2020-05-01",
    ]
    gbk = x.write(tmp_path / "gbk.csv", header, [row], encoding="gb18030")
    assert load(gbk, "--dry-run")[0] == 0
    jsonl = x.write(tmp_path / "p.jsonl", x.PROJECT_HEADER, [row], fmt="jsonl")
    assert load(jsonl, "--dry-run")[0] == 0
    xlsx = x.write(tmp_path / "p.xlsx", header, [row], fmt="xlsx")
    code, out, err = load(xlsx)
    assert code == 0, (out, err)
    assert Project.objects.get(prj_num="5303022001160001").name == "曲靖某学校"


def _bad(tmp_path, world, **change):
    values = {
        "CensorNum": "5303022001150001-TX-001",
        "PrjNum": "5303022001150001",
        "CensorCorpName": "审图中心",
        "CensorCorpCode": world["institution"].credit_code,
        "CensorEDate": "2020-02-01",
        "DesignCorpName": "设计院",
        "DesignCorpCode": world["design"].credit_code,
        "OneCensorIsPass": "1",
    }
    values.update(change)
    return x.write(tmp_path / "bad.csv", list(values), [list(values.values())])


@pytest.mark.parametrize(
    ("change", "column", "words"),
    [
        ({"CensorEDate": "2020-13-45"}, "审查完成日期", "不是有效日期"),
        ({"CensorEDate": "去年"}, "审查完成日期", "不是有效日期"),
        ({"OneCensorWfqtCount": "三条"}, "一次审查时违反强条数", "整数"),
        ({"DesignCorpCode": "91530302000000019X"}, "设计单位统一社会信用代码", "校验位"),
        ({"PrjNum": "53030220011500"}, "项目编号", "16位"),
        ({"OneCensorIsPass": "也许"}, "一次审查是否通过", "1（是）或0（否）"),
    ],
)
def test_bad_values_are_a_chinese_error_on_their_row(pms_files, tmp_path, world, change, column, words):
    assert load(pms_files["projects"])[0] == 0
    code, out, _err = load(_bad(tmp_path, world, **change), "--json")
    assert code == 1
    errors = rows_of(out)[0]["errors"]
    assert any(e["column"] == column and words in e["message"] for e in errors), errors
    assert DrawingReview.objects.count() == 0


def test_numbers_in_the_wrong_format(tmp_path, world):
    row = ["5303022001160001", "项目", "01", "", "", "530302", "12万", "2020-05-01"]
    code, out, _err = load(x.write(tmp_path / "p.csv", x.PROJECT_HEADER, [row]), "--json")
    assert code == 1
    assert rows_of(out)[0]["errors"][0]["column"] == "总投资（万元）"
    assert "不是数字" in rows_of(out)[0]["errors"][0]["message"]


def test_division_outside_yunnan(tmp_path):
    row = ["5303022001160001", "项目", "01", "", "", "110105", "100", "2020-05-01"]
    code, out, _err = load(x.write(tmp_path / "p.csv", x.PROJECT_HEADER, [row]), "--json")
    assert code == 1
    assert "不在云南省" in rows_of(out)[0]["errors"][0]["message"]
    assert Project.objects.count() == 0


def test_the_same_number_twice_in_one_file_refuses_both_rows(tmp_path, world):
    row = ["5303022001160001", "项目", "01", "", "", "530302", "100", "2020-05-01"]
    other = ["5303022001160002", "另一项目", "01", "", "", "530302", "100", "2020-05-01"]
    code, out, _err = load(x.write(tmp_path / "p.csv", x.PROJECT_HEADER, [row, other, row]), "--json")
    assert code == 1
    statuses = {r["row"]: r["status"] for r in rows_of(out)}
    assert statuses == {2: "error", 3: "new", 4: "error"}
    assert list(Project.objects.values_list("prj_num", flat=True)) == ["5303022001160002"]


@pytest.mark.parametrize(
    ("content", "name", "words"),
    [
        (b"%PDF-1.4 not a table\x00\x01", "x.xlsx", "无法识别"),
        ("项目编号,项目名称\n".encode("utf-16"), "x.csv", "编码"),
        (b"PrjNum,PrjName,CountyNum,Colour\n5303022001160001,x,530302,red\n", "x.csv", "无法识别的列"),
        (b"PrjNum,PrjName\n5303022001160001,x\n", "x.csv", "缺少“项目所在区县”"),
        (b"<html><table></table></html>", "x.xls", "网页"),
        (b"", "x.csv", "空"),
        (b"PK\x03\x04broken", "x.xlsx", "损坏"),
        (b"hello,world\n1,2\n", "x.csv", "表头"),
    ],
)
def test_unreadable_files_are_refused_with_exit_2_and_change_nothing(tmp_path, world, content, name, words):
    path = tmp_path / name
    path.write_bytes(content)
    before = snapshot()
    code, _out, err = load(path)
    assert code == 2
    assert words in err, err
    assert snapshot() == before


def test_a_bad_file_among_good_ones_refuses_the_whole_load(pms_files, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"PrjNum,Colour\n1,2\n")
    before = snapshot()
    assert load(pms_files["projects"], bad)[0] == 2
    assert snapshot() == before


def test_pms_load_refuses_platform_only_tables(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"TenderNum,PrjNum,TenderClassNum,TenderTypeNum,TenderCorpCode\n")
    code, _out, err = load(path)
    assert code == 2
    assert "--origin platform" in err


def test_the_same_column_twice_refuses_the_file(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes("PrjNum,PrjName,项目所在区县,CountyNum\n5303022001160001,x,530302,530302\n".encode())
    code, _out, err = load(path)
    assert code == 2
    assert "出现了两次" in err


def test_a_title_row_above_the_header_is_skipped(tmp_path, world):
    path = tmp_path / "p.csv"
    path.write_bytes(
        "工程项目基本信息导出（2019年）\nPrjNum,PrjName,CountyNum\n5303022001160001,曲靖某项目,530302\n".encode()
    )
    code, out, err = load(path, "--json")
    assert code == 0, err
    assert json.loads(out)["row"] == 3


def test_a_phase_claimed_afresh_starts_at_row_0_in_the_same_write():
    """Claiming a confirmed job names it "applying" and zeroes the check's row count at once: read
    between the two writes, it looked 100 % applied (the progress bar; a killed-load resume)."""
    from loads import services as load_services

    job = LoadJob.objects.create(
        origin="pms",
        source="command",
        status=LoadJob.Status.APPLY_QUEUED,
        total_rows=20_000,
        done_rows=20_000,
    )
    claimed = load_services.claim("worker-1", job.pk)
    assert claimed.status == LoadJob.Status.APPLYING
    stored = LoadJob.objects.get(pk=job.pk)
    assert (stored.status, stored.done_rows, stored.percent) == (LoadJob.Status.APPLYING, 0, 0)
    # A job resumed after its holder died keeps the rows it had applied.
    LoadJob.objects.filter(pk=job.pk).update(
        done_rows=600, apply_counts={"new": 600}, lease_until=stored.lease_until.replace(year=2000)
    )
    assert load_services.claim("worker-2", job.pk).done_rows == 600
    assert LoadJob.objects.get(pk=job.pk).done_rows == 600
