"""The roster pages end to end through the test client: upload → preview → apply → activation,
bad files, exports with masked ID numbers, the liaison's view, permissions and query counts."""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from projects.stages import Stage
from review.models import ReviewerAssignment
from review.roster import parse as roster
from review.roster import storage
from review.roster.apply import plan_roster, read_roster
from tests.conftest import Client, totp_token
from tests.review.test_roster_apply import (
    HONGHE,
    LIAISON,
    PERMIT,
    QILIN,
    apply,
    person,
    qujing_people,
    roster_bytes,
)
from tests.review.test_roster_parse import (
    ID_A,
    ID_X,
    QUJING,
    Sheet,
    fake_ole,
    person_id,
    write_xlsx,
)
from yunjian.core.models import AuditEntry, Organization, User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    """Uploads kept between preview and apply go to this test's own directory."""
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def admin_client(client, province_admin):
    client.force_login(province_admin)
    return client


def upload(client, content: bytes, name: str = "曲靖市汇总表.xlsx"):
    return client.post(reverse("roster:upload"), {"file": SimpleUploadedFile(name, content)})


def token_of(response) -> str:
    assert response.status_code == 302, response.content.decode()[:2000]
    match = re.search(r"/roster/upload/([A-Za-z0-9_-]+)/$", response["Location"])
    assert match, response["Location"]
    return match.group(1)


def plan_digest(page) -> str:
    return re.search(r'name="plan" value="([0-9a-f]+)"', page.content.decode()).group(1)


def upload_and_apply(client, people, name="曲靖市汇总表.xlsx"):
    token = token_of(upload(client, roster_bytes(people), name))
    page = client.get(reverse("roster:preview", args=[token]))
    response = client.post(reverse("roster:apply", args=[token]), {"plan": plan_digest(page)})
    assert response.status_code == 302
    assert response["Location"] == reverse("roster:result", args=[token])
    return token


def snapshot() -> tuple:
    return (
        list(User.objects.order_by("pk").values()),
        list(ReviewerAssignment.objects.order_by("pk").values()),
        Organization.objects.count(),
        AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT).count(),
    )


# --------------------------------------------------------------------------- permissions


ADMIN_PAGES = ["roster:index", "roster:upload", "roster:template", "roster:export", "roster:pending"]


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_admin_pages_open_for_the_province_admin(admin_client, name):
    response = admin_client.get(reverse(name))

    assert response.status_code == 200


@pytest.mark.parametrize("name", ADMIN_PAGES)
@pytest.mark.parametrize("persona", ["contractor", "reviewer", "outsider"])
def test_admin_pages_refuse_other_roles(client, request, name, persona):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(reverse(name))

    assert response.status_code == 403
    assert "无权" in response.content.decode()


@pytest.mark.parametrize("name", [*ADMIN_PAGES, "roster:mine"])
def test_anonymous_is_sent_to_login(client, world, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:login"))


def test_other_roles_cannot_upload_or_apply(client, contractor, world):
    client.force_login(contractor)

    assert upload(client, roster_bytes(qujing_people())).status_code == 403
    assert client.post(reverse("roster:apply", args=["x" * 32]), {"plan": "0"}).status_code == 403
    assert not User.objects.filter(full_name="张三").exists()


def test_nav_and_home_link_to_the_roster(admin_client):
    page = admin_client.get(reverse("core:home-role", args=["province-admin"])).content.decode()

    assert page.count(f'href="{reverse("roster:index")}"') >= 2


# --------------------------------------------------------------------------- the happy path


def test_template_download_is_the_attachment(admin_client):
    response = admin_client.get(reverse("roster:template"))

    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    parse = read_roster(response.content, "t.xlsx")
    assert parse.rows == []  # its pre-filled 审核环节 lines are blank until a person is written in


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods"])
def test_upload_preview_apply(admin_client, world, reviewer, fmt):
    before = snapshot()
    response = upload(admin_client, roster_bytes(qujing_people(), fmt), f"曲靖市汇总表.{fmt}")
    token = token_of(response)
    assert snapshot() == before  # an upload changes nothing

    page = admin_client.get(reverse("roster:preview", args=[token]))

    html = page.content.decode()
    assert page.status_code == 200
    assert list(re.findall(r'data-status="(\w+)"', html)) == ["new"] * 4
    assert "rita_qujing" in html  # the factory reviewer of 曲靖, to be removed: listed before confirming
    assert "将删除的审核分工（5）" in html
    assert "5303**********" in html
    assert ID_X not in html
    assert snapshot() == before  # neither does the preview

    response = admin_client.post(reverse("roster:apply", args=[token]), {"plan": plan_digest(page)})

    assert response.status_code == 302
    assert ReviewerAssignment.objects.filter(roster_key="530300").count() == 4
    assert not reviewer.assignments.exists()
    result = admin_client.get(response["Location"])
    html = result.content.decode()
    assert html.count("data-activation-link") == 4
    assert "r530300001" in html
    # the stored file is gone and the token cannot be applied twice
    assert not (storage.upload_dir() / f"{token}.bin").exists()
    again = admin_client.post(reverse("roster:apply", args=[token]), {"plan": plan_digest(page)})
    assert again["Location"] == reverse("roster:upload")
    assert ReviewerAssignment.objects.filter(roster_key="530300").count() == 4


def test_second_import_previews_unchanged_and_writes_only_the_audit_entry(admin_client, world):
    upload_and_apply(admin_client, qujing_people())
    users, assignments, orgs, imports = snapshot()

    token = token_of(upload(admin_client, roster_bytes(qujing_people())))
    page = admin_client.get(reverse("roster:preview", args=[token]))
    assert re.findall(r'data-status="(\w+)"', page.content.decode()) == ["unchanged"] * 4
    admin_client.post(reverse("roster:apply", args=[token]), {"plan": plan_digest(page)})

    assert snapshot() == (users, assignments, orgs, imports + 1)
    result = admin_client.get(reverse("roster:result", args=[token])).content.decode()
    assert "没有任何变更" in result


def test_preview_with_errors_blocks_apply_and_offers_the_error_report(admin_client, world):
    people = qujing_people()
    people[1][5] = ID_X[:-1] + ("1" if ID_X[-1] != "1" else "2")  # wrong check digit
    before = snapshot()
    token = token_of(upload(admin_client, roster_bytes(people)))

    page = admin_client.get(reverse("roster:preview", args=[token]))
    html = page.content.decode()

    assert re.findall(r'data-status="(\w+)"', html) == ["new", "error", "new", "new"]
    assert "校验位不正确" in html
    assert re.search(r'<button class="btn primary" type="submit" disabled>确认导入', html)
    report = admin_client.get(reverse("roster:error-report", args=[token]))
    sheet = openpyxl.load_workbook(io.BytesIO(report.content)).active
    assert "校验位不正确" in sheet.cell(5, 9).value  # same row as in the upload, error in a new column
    forced = admin_client.post(reverse("roster:apply", args=[token]), {"plan": plan_digest(page)})
    assert forced["Location"] == reverse("roster:preview", args=[token])
    assert snapshot() == before


def test_preview_filters_by_status(admin_client, world):
    apply(qujing_people()[:2])
    token = token_of(upload(admin_client, roster_bytes(qujing_people())))

    page = admin_client.get(reverse("roster:preview", args=[token]), {"status": "new"})

    assert re.findall(r'data-status="(\w+)"', page.content.decode()) == ["new", "new"]


def test_apply_needs_the_upload_in_the_same_session(admin_client, province_admin, world):
    token = token_of(upload(admin_client, roster_bytes(qujing_people())))
    page = admin_client.get(reverse("roster:preview", args=[token]))
    other = Client()
    other.force_login(province_admin)  # the same admin, another session

    response = other.post(reverse("roster:apply", args=[token]), {"plan": plan_digest(page)})

    assert response["Location"] == reverse("roster:upload")
    assert not User.objects.filter(full_name="张三").exists()
    for forged in ["..%2F..%2Fetc%2Fpasswd", "a" * 10]:
        assert admin_client.get(f"/roster/upload/{forged}/").status_code in (302, 404)


def test_a_changed_file_on_disk_is_refused(admin_client, world):
    token = token_of(upload(admin_client, roster_bytes(qujing_people())))
    (storage.upload_dir() / f"{token}.bin").write_bytes(roster_bytes(qujing_people()[:1]))

    response = admin_client.get(reverse("roster:preview", args=[token]))

    assert response["Location"] == reverse("roster:upload")


def test_the_upload_on_disk_is_encrypted_and_deleted_once_applied(admin_client, world):
    content = roster_bytes(qujing_people())
    token = token_of(upload(admin_client, content))
    on_disk = (storage.upload_dir() / f"{token}.bin").read_bytes()
    assert on_disk != content
    assert not on_disk.startswith(b"PK")  # not a workbook (an .xlsx is a zip)
    assert ID_X.encode() not in on_disk
    with zipfile.ZipFile(io.BytesIO(content)) as archive:  # nor any part of one
        assert all(archive.read(name)[:64] not in on_disk for name in archive.namelist())
    page = admin_client.get(reverse("roster:preview", args=[token]))
    assert page.status_code == 200
    admin_client.post(reverse("roster:apply", args=[token]), {"plan": plan_digest(page)})
    assert list(storage.upload_dir().iterdir()) == []


def test_an_upload_is_unreadable_without_its_session(admin_client, world, province_admin):
    token = token_of(upload(admin_client, roster_bytes(qujing_people())))
    other = Client()
    other.force_login(province_admin)  # the same admin, another session: no key
    assert other.get(reverse("roster:preview", args=[token]))["Location"] == reverse("roster:upload")


# --------------------------------------------------------------------------- bad files


def empty_xlsx() -> bytes:
    buffer = io.BytesIO()
    openpyxl.Workbook().save(buffer)
    return buffer.getvalue()


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (20 * 1024 * 1024))
    return buffer.getvalue()


def password_zip() -> bytes:
    content = bytearray(roster_bytes(qujing_people()))
    position = content.find(b"PK\x01\x02")
    while position != -1:
        content[position + 8] |= 0x1
        position = content.find(b"PK\x01\x02", position + 4)
    return bytes(content)


BAD_FILES = {
    "random bytes": (b"\x01\x02not a spreadsheet" * 50, "a.xlsx", roster.NOT_SPREADSHEET),
    "csv": ("单位,姓名\n曲靖,张三\n".encode(), "a.csv", roster.NOT_SPREADSHEET_TEXT),
    "html as xls": (b"<html><table></table></html>", "a.xls", roster.NOT_SPREADSHEET_HTML),
    "truncated": (None, "a.xlsx", roster.CORRUPT),
    "damaged xls": (fake_ole("Root Entry", "Workbook"), "a.xls", roster.CORRUPT),
    "password xlsx": (
        fake_ole("Root Entry", "EncryptionInfo", "EncryptedPackage"),
        "a.xlsx",
        roster.PASSWORD_PROTECTED,
    ),
    "password zip": (None, "a.xlsx", roster.PASSWORD_PROTECTED),
    "word document": (fake_ole("Root Entry", "WordDocument"), "a.doc", roster.NOT_SPREADSHEET_OFFICE),
    "empty sheet": (None, "a.xlsx", roster.EMPTY_SHEET),
    "no header": (None, "a.xlsx", roster.NO_HEADER.format(limit=20)),
    "zip bomb": (None, "a.xlsx", roster.ZIP_BOMB.format(limit="100.0MB")),
}


def bad_content(case: str) -> bytes:
    builders = {
        "truncated": lambda: roster_bytes(qujing_people())[:900],
        "password zip": password_zip,
        "empty sheet": empty_xlsx,
        "no header": lambda: write_xlsx(Sheet([["人员名单"], ["张三", "13800138000"]])),
        "zip bomb": zip_bomb,
    }
    content = BAD_FILES[case][0]
    return content if content is not None else builders[case]()


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_is_a_400_with_a_chinese_reason(admin_client, world, case):
    _content, name, message = BAD_FILES[case]
    before = snapshot()

    response = upload(admin_client, bad_content(case), name)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert snapshot() == before
    assert not admin_client.session.get(storage.SESSION_KEY)


def test_too_many_rows_and_too_many_bytes(admin_client, world, settings):
    people = [person(QUJING, f"人{i}", PERMIT, f"138{i:08d}", ca="是") for i in range(60)]
    settings.ROSTER_MAX_ROWS = 50

    too_many = upload(admin_client, roster_bytes(people))

    assert too_many.status_code == 400
    assert "表格超过50行，请分成多个文件上传" in too_many.content.decode()
    settings.ROSTER_MAX_BYTES = 1024
    too_big = upload(admin_client, roster_bytes(qujing_people()))
    assert too_big.status_code == 400
    assert "文件大小超过1KB" in too_big.content.decode()
    assert not User.objects.filter(full_name="人1").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [({}, "请选择要上传的汇总表文件"), ({"file": SimpleUploadedFile("a.xlsx", b"")}, "文件是空的")],
)
def test_missing_or_empty_upload(admin_client, world, data, message):
    response = admin_client.post(reverse("roster:upload"), data)

    assert response.status_code == 400
    assert message in response.content.decode()


def test_zip_claiming_an_unknown_version_is_corrupt(admin_client, world):
    content = bytearray(roster_bytes(qujing_people()))
    central = content.find(b"PK\x01\x02")
    content[central + 6] = 69  # "version needed to extract" 6.9: zipfile raises NotImplementedError

    response = upload(admin_client, bytes(content))

    assert response.status_code == 400
    assert roster.CORRUPT in response.content.decode()


def test_no_mutation_of_a_roster_file_is_a_server_error(admin_client, world):
    """Damaged files of every kind: each is refused with a reason or previewed, never a 500."""
    import random

    rng = random.Random(6)
    originals = [roster_bytes(qujing_people(), fmt) for fmt in ("xlsx", "xls", "ods")]
    for number in range(36):
        content = bytearray(originals[number % 3])
        if number % 4 == 0:
            content = content[: rng.randrange(1, len(content))]
        else:
            for _ in range(rng.choice((1, 8, 64))):
                content[rng.randrange(len(content))] = rng.randrange(256)
        response = upload(admin_client, bytes(content), f"a.{('xlsx', 'xls', 'ods')[number % 3]}")
        assert response.status_code in (302, 400), number
        if response.status_code == 302:
            assert admin_client.get(response["Location"]).status_code == 200
    assert not ReviewerAssignment.objects.exists()


def test_missing_columns_preview_as_file_errors(admin_client, world):
    sheet = Sheet([["姓名", "审核环节"], ["张三", "州（市）联络员"]])
    token = token_of(upload(admin_client, write_xlsx(sheet)))

    html = admin_client.get(reverse("roster:preview", args=[token])).content.decode()

    assert "缺少“单位”列" in html
    assert "disabled>确认导入" in html


# --------------------------------------------------------------------------- activation


def activation_link(client, token: str) -> str:
    html = client.get(reverse("roster:result", args=[token])).content.decode()
    return re.findall(r'data-activation-link href="http://testserver([^"]+)"', html)[0]


def test_activation_link_sets_a_valid_password_once_then_the_reviewer_logs_in(admin_client, world):
    token = upload_and_apply(admin_client, qujing_people()[:1])
    link = activation_link(admin_client, token)
    user = User.objects.get(full_name="张三")
    person_client = Client()

    page = person_client.get(link, follow=True)
    assert user.username in page.content.decode()
    form_url = page.redirect_chain[-1][0]
    weak = person_client.post(form_url, {"new_password1": "12345678", "new_password2": "12345678"})
    assert weak.status_code == 200
    assert "errorlist" in weak.content.decode()
    user.refresh_from_db()
    assert not user.has_usable_password()

    done = person_client.post(
        form_url, {"new_password1": "Yunnan#Review2026", "new_password2": "Yunnan#Review2026"}
    )

    assert done["Location"] == reverse("core:login")
    user.refresh_from_db()
    assert user.check_password("Yunnan#Review2026")
    assert AuditEntry.objects.filter(action=AuditEntry.Action.PASSWORD, object_id=str(user.pk)).exists()
    again = Client().get(link, follow=True)
    assert "激活链接无效" in again.content.decode()
    login = person_client.post(
        reverse("core:login"), {"username": user.username, "password": "Yunnan#Review2026"}, follow=True
    )
    # A reviewer: the second factor is enrolled first, then the initial password is changed.
    assert login.redirect_chain[-1][0].startswith(reverse("core:otp-setup"))
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    person_client.post(reverse("core:otp-setup"), {"token": totp_token(device)})
    forced = person_client.get(reverse("core:home"), follow=True)
    assert forced.redirect_chain[-1][0] == reverse("core:password-change")
    home = person_client.post(
        reverse("core:password-change"),
        {
            "old_password": "Yunnan#Review2026",
            "new_password1": "Yunnan#Review2027",
            "new_password2": "Yunnan#Review2027",
        },
        follow=True,
    )
    assert home.redirect_chain[-1][0] == reverse("core:home-role", args=["reviewer"])
    assert "审核工作台" in home.content.decode()
    assert person_client.get(reverse("review:inbox")).status_code == 200
    # activated accounts no longer appear among the pending ones
    assert user.username not in admin_client.get(reverse("roster:pending")).content.decode()


def test_activation_link_cannot_take_over_an_existing_account(client, world, contractor):
    from review.roster.activation import activation_path

    page = client.get(activation_path(contractor), follow=True)

    assert "激活链接无效" in page.content.decode()


def test_activation_list_downloads_and_is_audited(admin_client, world):
    token = upload_and_apply(admin_client, qujing_people())

    response = admin_client.get(reverse("roster:result-accounts", args=[token]))

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert [cell.value for cell in sheet[2]] == ["序号", "姓名", "用户名", "单位", "联系电话", "激活链接"]
    assert sheet.cell(3, 3).value == "r530300001"
    assert sheet.cell(3, 6).value.startswith("http://testserver/roster/activate/")
    assert sheet.max_row == 6
    assert AuditEntry.objects.filter(
        action=AuditEntry.Action.EXPORT, object_type="roster_activation"
    ).exists()
    pending = admin_client.get(reverse("roster:pending-export"))
    assert openpyxl.load_workbook(io.BytesIO(pending.content)).active.max_row == 6


# --------------------------------------------------------------------------- exports and masking


def activated(user: User) -> User:
    """The person activated the account and set a new password at the first sign-in, as required."""
    User.objects.filter(pk=user.pk).update(must_change_password=False)
    user.refresh_from_db()
    return user


@pytest.fixture
def imported(world):
    apply(qujing_people())
    apply(
        [
            person(HONGHE, "何一", LIAISON, "13800138100"),
            person(HONGHE, "何二", PERMIT, "13800138101", id_number=person_id(200)),
        ]
    )
    return activated(User.objects.get(full_name="张三"))  # 曲靖's liaison


def test_province_export_per_prefecture_and_combined_masks_ids(admin_client, imported):
    per = admin_client.get(reverse("roster:export"), {"layout": "per_prefecture"})
    combined = admin_client.get(reverse("roster:export"), {"layout": "combined"})

    workbook = openpyxl.load_workbook(io.BytesIO(per.content))
    assert workbook.sheetnames == ["曲靖市", "红河哈尼族彝族自治州"]
    ids = [row[5].value for row in workbook["曲靖市"].iter_rows(min_row=3) if row[1].value]
    assert ids == [
        "——",
        ID_X[:4] + "*" * 10 + ID_X[-4:],
        ID_A[:4] + "*" * 10 + ID_A[-4:],
        "5303**********" + qujing_people()[3][5][-4:],
    ]
    assert openpyxl.load_workbook(io.BytesIO(combined.content)).sheetnames == ["汇总"]
    # the export reads back as a roster of the same places and stages
    parse = read_roster(combined.content, "汇总.xlsx")
    assert [(r.name, r.jurisdiction.division_code, r.stage) for r in parse.rows][:4] == [
        ("张三", "530300", Stage.LIAISON),
        ("李四", "530300", Stage.DRAWING_REVIEW),
        ("王五", "530300", Stage.PERMIT),
        ("周九", "530302", Stage.PERMIT),
    ]
    entries = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT, object_type="roster")
    assert entries.count() == 2
    assert not any(entry.data["full_id_numbers"] for entry in entries)


def test_full_ids_only_for_an_admin_who_posts_a_reason_and_audited(admin_client, province_admin, imported):
    # A GET never shows them, whatever it asks for.
    masked_get = admin_client.get(reverse("roster:export"), {"layout": "combined", "full_id": "on"})
    sheet = openpyxl.load_workbook(io.BytesIO(masked_get.content)).active
    assert ID_X not in [row[5].value for row in sheet.iter_rows(min_row=3)]
    assert (
        ID_X
        not in admin_client.get(
            reverse("roster:prefecture", args=["530300"]), {"full_id": "1"}
        ).content.decode()
    )
    # A POST without a reason is refused, and shows nothing.
    no_reason = admin_client.post(reverse("roster:export"), {"layout": "combined", "full_id": "on"})
    assert no_reason.status_code == 400
    assert "须填写事由" in no_reason.content.decode()
    refused = admin_client.post(reverse("roster:prefecture", args=["530300"]), {"reason": ""})
    assert refused.status_code == 400
    assert ID_X not in refused.content.decode()
    assert not AuditEntry.objects.filter(data__full_id_numbers=True).exists()

    response = admin_client.post(
        reverse("roster:export"), {"layout": "combined", "full_id": "on", "reason": "核对CA证书办理情况"}
    )

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert ID_X in [row[5].value for row in sheet.iter_rows(min_row=3)]
    entry = AuditEntry.objects.get(
        action=AuditEntry.Action.EXPORT, object_type="roster", data__full_id_numbers=True
    )
    assert entry.actor == province_admin
    assert entry.data["reason"] == "核对CA证书办理情况"
    assert "完整身份证号码" in entry.reason
    assert "核对CA证书办理情况" in entry.reason
    page = admin_client.post(reverse("roster:prefecture", args=["530300"]), {"reason": "核对身份证号码"})
    assert ID_X in page.content.decode()
    shown = AuditEntry.objects.get(object_id="530300", data__full_id_numbers=True)
    assert shown.data["reason"] == "核对身份证号码"
    export = admin_client.post(
        reverse("roster:prefecture-export", args=["530300"]), {"reason": "报送省厅备案"}
    )
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    assert ID_X in [row[5].value for row in sheet.iter_rows(min_row=3)]
    assert AuditEntry.objects.filter(object_id="530300", data__reason="报送省厅备案").count() == 1
    masked = admin_client.get(reverse("roster:prefecture", args=["530300"])).content.decode()
    assert ID_X not in masked
    assert ID_X[:4] + "*" * 10 + ID_X[-4:] in masked


def test_liaison_sees_own_prefecture_masked_and_nothing_else(client, imported):
    client.force_login(imported)

    assert client.get(reverse("roster:mine"))["Location"] == reverse("roster:prefecture", args=["530300"])
    page = client.get(reverse("roster:prefecture", args=["530300"]), {"full_id": "1"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "李四" in html
    assert "周九" in html
    assert ID_X not in html
    assert ID_X[:4] + "*" * 10 + ID_X[-4:] in html
    export = client.get(reverse("roster:prefecture-export", args=["530300"]), {"full_id": "1"})
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert ID_X not in values
    assert "何一" not in values
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT, object_type="roster")
    assert entry.actor == imported
    assert entry.data["full_id_numbers"] is False
    # A liaison cannot ask for full ID numbers, reason or not.
    assert (
        client.post(reverse("roster:prefecture", args=["530300"]), {"reason": "我想看看完整号码"}).status_code
        == 403
    )
    assert (
        client.post(
            reverse("roster:prefecture-export", args=["530300"]), {"reason": "我想看看完整号码"}
        ).status_code
        == 403
    )
    assert client.get(reverse("roster:prefecture", args=["532500"])).status_code == 403
    assert client.get(reverse("roster:prefecture-export", args=["532500"])).status_code == 403
    assert client.get(reverse("roster:index")).status_code == 403


def test_reviewer_who_is_not_a_liaison_has_no_roster_view(client, imported):
    client.force_login(activated(User.objects.get(full_name="李四")))

    assert client.get(reverse("roster:mine")).status_code == 403
    assert client.get(reverse("roster:prefecture", args=["530300"])).status_code == 403


def test_every_page_says_what_to_do_next(admin_client, client, imported):
    token = token_of(upload(admin_client, roster_bytes(qujing_people())))
    page = admin_client.get(reverse("roster:preview", args=[token]))
    admin_client.post(reverse("roster:apply", args=[token]), {"plan": plan_digest(page)})
    urls = [
        reverse("roster:index"),
        reverse("roster:upload"),
        reverse("roster:export"),
        reverse("roster:pending"),
        reverse("roster:result", args=[token]),
        reverse("roster:prefecture", args=["530300"]),
    ]
    for url in urls:
        assert 'class="next-step"' in admin_client.get(url).content.decode(), url
    assert 'class="next-step"' in page.content.decode()
    client.force_login(imported)
    assert 'class="next-step"' in client.get(reverse("roster:prefecture", args=["530300"])).content.decode()
    invalid = Client().get(reverse("roster:activate", args=["MQ", "x-y"]), follow=True)
    assert 'class="next-step"' in invalid.content.decode()


def test_unknown_prefecture_is_404_for_the_admin(admin_client, world):
    assert admin_client.get(reverse("roster:prefecture", args=["999900"])).status_code == 404


# --------------------------------------------------------------------------- overview and query counts


def many_people(count: int) -> list[list[object]]:
    stages = [PERMIT, "施工图审查信息", "竣工验收信息及竣工验收备案信息"]
    return [
        person(
            QILIN if i % 2 else QUJING, f"人员{i}", stages[i % 3], f"139{i:08d}", id_number=person_id(300 + i)
        )
        for i in range(count)
    ]


def test_index_lists_prefectures_with_liaison_and_counts(admin_client, imported):
    html = admin_client.get(reverse("roster:index")).content.decode()

    assert "曲靖市" in html
    assert "滇中新区" in html
    assert "张三（13800138000）" in html
    assert "何一（13800138100）" in html
    assert reverse("roster:prefecture", args=["530300"]) in html
    assert "待激活账号（6）" in html


@pytest.mark.parametrize("count", [2, 60])
def test_index_query_count_is_constant(admin_client, world, django_assert_num_queries, count):
    apply([person(QUJING, "张三", LIAISON, "13800138000"), *many_people(count)])
    admin_client.get(reverse("roster:index"))  # the idle-timeout stamp is written once

    # session, user, the session's second-factor device, per-stage counts, liaisons, prefectures,
    # zones, pending accounts
    # + 1: the header's unread messages (notices.context_processors).
    with django_assert_num_queries(8 + 1):
        response = admin_client.get(reverse("roster:index"))
    assert response.status_code == 200


@pytest.mark.parametrize("count", [2, 60])
def test_liaison_view_query_count_is_constant(client, world, django_assert_num_queries, count):
    apply([person(QUJING, "张三", LIAISON, "13800138000"), *many_people(count)])
    client.force_login(activated(User.objects.get(full_name="张三")))
    client.get(reverse("roster:prefecture", args=["530300"]))

    # session, user, the session's second-factor device, the user's liaison keys, the roster's name,
    # one page of lines
    with django_assert_num_queries(6 + 1):
        response = client.get(reverse("roster:prefecture", args=["530300"]))
    assert response.content.decode().count("<tr>") == count + 2  # header + liaison + people


def test_prefecture_page_is_keyset_paginated(admin_client, world):
    apply([person(QUJING, "张三", LIAISON, "13800138000"), *many_people(120)])

    first = admin_client.get(reverse("roster:prefecture", args=["530300"]))
    html = first.content.decode()
    next_link = re.search(r'href="\?([^"]*after=[^"]+)"', html).group(1).replace("&amp;", "&")
    second = admin_client.get(reverse("roster:prefecture", args=["530300"]) + "?" + next_link)

    assert html.count("<tr>") == 101
    assert second.content.decode().count("<tr>") == 22
    names = re.findall(r"<td>(人员\d+|张三)</td>", html + second.content.decode())
    assert len(names) == len(set(names)) == 121


def test_plan_of_the_stored_upload_matches_the_preview(admin_client, world):
    token = token_of(upload(admin_client, roster_bytes(qujing_people())))
    page = admin_client.get(reverse("roster:preview", args=[token]))

    stored = storage.load(admin_client.session, token, user_id=int(admin_client.session["_auth_user_id"]))
    assert plan_roster(read_roster(stored.content, "a.xlsx")).digest == plan_digest(page)
    assert "施工许可信息" in page.content.decode()
