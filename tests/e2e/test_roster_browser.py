"""In Chromium: the admin uploads a roster with an error, sees it in the preview, uploads the fixed
file, applies it, and the new reviewer activates the account through the link and logs in."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import login
from tests.review.test_roster_apply import DRAWING, LIAISON, QUJING, person, roster_bytes
from tests.review.test_roster_parse import ID_X

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Qujing#Review2026"


def people(phone: str) -> list[list[object]]:
    return [
        person(QUJING, "张联络", LIAISON, "13800138000"),
        person(QUJING, "李图审", DRAWING, phone, ca="是", id_number=ID_X),
    ]


def test_roster_import_then_the_new_reviewer_activates_and_logs_in(page, demo_site, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"  # the uploads kept between preview and apply
    broken = tmp_path / "曲靖市汇总表.xlsx"
    broken.write_bytes(roster_bytes(people("1380013")))  # too short to be a phone number
    fixed = tmp_path / "曲靖市汇总表（修正）.xls"
    fixed.write_bytes(roster_bytes(people("13800138001"), "xls"))

    login(page, demo_site.url, "admin")
    page.click("nav.mainnav >> text=审核人员名单")
    expect(page.locator("h1")).to_have_text("审核人员名单")
    expect(page.locator(".next-step")).to_be_visible()
    page.click("text=上传汇总表")
    page.set_input_files("input[type=file]", str(broken))
    page.click("button:has-text('上传并预览')")

    expect(page.locator("h1")).to_contain_text("导入预览")
    expect(page.locator(".next-step")).to_contain_text("错误报告")
    expect(page.locator("#preview-rows tr[data-status=error]")).to_contain_text("联系电话应为11位手机号码")
    expect(page.locator("button:has-text('确认导入')")).to_be_disabled()
    with page.expect_download() as download:
        page.click(".page-actions >> text=下载错误报告")
    assert download.value.suggested_filename.endswith(".xlsx")

    page.click(".page-actions >> text=重新上传")
    page.set_input_files("input[type=file]", str(fixed))
    page.click("button:has-text('上传并预览')")
    expect(page.locator("#preview-rows tr[data-status=new]")).to_have_count(2)
    expect(page.locator("#removals")).to_contain_text(
        "reviewer_qj"
    )  # the demo reviewer is not in the new roster
    page.click("button:has-text('确认导入')")

    expect(page.locator("h1")).to_contain_text("导入完成")
    row = page.locator("#new-accounts tr", has_text="李图审")
    username = row.locator("td.mono").first.inner_text()
    assert re.fullmatch(r"r530300\d{3}", username)
    link = row.locator("a[data-activation-link]").get_attribute("href")
    page.click("button:has-text('退出')")

    page.goto(link)
    expect(page.locator(".login-sub")).to_contain_text(username)
    page.fill("input[name=new_password1]", NEW_PASSWORD)
    page.fill("input[name=new_password2]", NEW_PASSWORD)
    page.click("button:has-text('设置密码并激活')")
    expect(page.locator("ul.messages")).to_contain_text("已激活")

    login(page, demo_site.url, username, NEW_PASSWORD)
    # The link passed through other hands: a new password at the first sign-in, before anything else.
    expect(page.locator(".callout.warn")).to_contain_text("初始密码")
    page.fill("input[name=old_password]", NEW_PASSWORD)
    page.fill("input[name=new_password1]", NEW_PASSWORD + "x")
    page.fill("input[name=new_password2]", NEW_PASSWORD + "x")
    page.click("button:has-text('修改密码')")
    expect(page.locator("h1")).to_contain_text("审核工作台")
    expect(page.locator(".userbox")).to_contain_text("李图审")
    page.click(".page-actions >> text=进入待办审核")
    expect(page.locator("h1")).to_have_text("待办审核")

    page.goto(link)  # the link worked once
    expect(page.locator(".callout.error")).to_contain_text("激活链接无效")


def test_the_preview_shows_each_reviewers_area_and_a_county_unit_narrows_it(
    page, demo_site, tmp_path, settings
):
    """Issue 19: 负责区域 in the preview; a county bureau named as the person's own unit is the area."""
    from tests.review.test_roster_apply import PERMIT

    settings.MEDIA_ROOT = tmp_path / "media"
    upload = tmp_path / "曲靖市汇总表.xlsx"
    upload.write_bytes(
        roster_bytes(
            [
                person(QUJING, "张联络", LIAISON, "13800138000"),
                person(QUJING, "李图审", DRAWING, "13800138001", ca="是", id_number=ID_X),
                person(QUJING, "王许可", PERMIT, "13800138002", ca="是", department="麒麟区住房和城乡建设局"),
            ]
        )
    )
    login(page, demo_site.url, "admin")
    page.goto(f"{demo_site.url}/roster/")
    page.click("text=上传汇总表")
    page.set_input_files("input[type=file]", str(upload))
    page.click("button:has-text('上传并预览')")
    expect(page.locator("#preview-rows thead")).to_contain_text("负责区域")
    expect(page.locator("#preview-rows tr", has_text="李图审").locator("td.area")).to_have_text("曲靖市")
    expect(page.locator("#preview-rows tr", has_text="王许可").locator("td.area")).to_have_text(
        "曲靖市麒麟区"
    )
