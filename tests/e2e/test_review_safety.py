"""Issue 19: decisions with a safety net, scans read in the browser, the next record at hand."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from projects.models import Attachment, ConstructionPermit, State
from tests.conftest import login

pytestmark = pytest.mark.browser

HOUSING_PERMIT = "5303021903050005-SX-001"  # demo project 5: at 麒麟区's permit reviewers
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def open_permit(page, base: str, username: str = "reviewer_qlq") -> None:
    login(page, base, username)
    page.goto(f"{base}/review/inbox/")
    page.locator("#inbox-table tbody tr", has_text=HOUSING_PERMIT).get_by_role("link", name="审核").click()
    expect(page.locator("h1")).to_have_text("施工许可信息审核")


def test_approving_with_return_reasons_filled_is_refused_and_the_error_is_in_view(page, demo_site):
    open_permit(page, demo_site.url)
    page.get_by_label("发证日期有误").check()
    page.get_by_role("button", name="审核通过（认定）", exact=True).click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("却点击了审核通过，本次没有办理")
    expect(page.locator("#id_reason_text")).to_be_focused()
    expect(page.get_by_label("发证日期有误")).to_be_checked()  # what was ticked stays
    assert ConstructionPermit.objects.get(permit_num=HOUSING_PERMIT).state == State.IN_REVIEW


def test_a_return_without_reason_puts_the_focus_on_the_reason(page, demo_site):
    open_permit(page, demo_site.url)
    page.get_by_role("button", name="退回录入单位").click()
    expect(page.locator("#error-summary")).to_contain_text("退回时必须填写退回原因")
    expect(page.locator("#id_reason_text")).to_be_focused()
    box = page.locator("#id_reason_text").bounding_box()
    assert 0 <= box["y"] < 768  # in view, not 2,000 px down


def test_bulk_approval_asks_first(page, demo_site):
    login(page, demo_site.url, "reviewer_qj")
    page.goto(f"{demo_site.url}/review/inbox/")
    page.locator("#select-all").check()
    asked = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="批量审核通过所选记录").click()
    page.wait_for_timeout(300)
    assert asked == ["确定将所选的 3 条记录全部审核通过吗？审核通过后不能撤回。"]
    expect(page.locator("h1")).not_to_have_text("批量审核结果")
    assert ConstructionPermit.objects.get(permit_num=HOUSING_PERMIT).state == State.IN_REVIEW


def test_approve_and_open_the_next_one(page, demo_site):
    login(page, demo_site.url, "reviewer_qj")
    page.goto(f"{demo_site.url}/review/inbox/")
    page.locator("#inbox-table tbody tr").first.get_by_role("link", name="审核").click()
    first = page.url
    page.get_by_role("button", name="通过并审核下一条").click()
    expect(page.locator("ul.messages li.success")).to_be_visible()
    expect(page.locator("#decision-form")).to_be_visible()
    assert page.url != first
    assert "/review/records/" in page.url or "/review/" in page.url


def test_the_reviewer_reads_the_scan_in_the_browser_and_the_diff_lists_it(page, demo_site):
    base = demo_site.url
    # The contractor resubmits its returned permit with a scan chosen on the form.
    login(page, base, "builder1")
    page.goto(f"{base}/")
    page.get_by_role("link", name="查看被退回的信息").click()
    page.get_by_role("link", name="修改").first.click()
    page.fill("#id_issue_date", "2019-05-18")
    page.set_input_files(
        "#id_att-files",
        files=[{"name": "许可证正本.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}],
    )
    page.get_by_role("button", name="重新提交发证机关审核").click()
    expect(page.locator("#record-state")).to_have_text("待审核")
    permit = ConstructionPermit.objects.get(permit_num="5303021903060006-SX-001")
    attachment = Attachment.objects.get(kind="permit", record_id=permit.pk)
    page.get_by_role("button", name="退出").click()

    login(page, base, "reviewer_qlq")
    page.goto(f"{base}/review/records/permit/{permit.pk}/")
    expect(page.locator("#diff-attachments")).to_contain_text("新增：许可证正本.pdf")
    link = page.locator("#attachments tr", has_text="许可证正本.pdf").get_by_role("link", name="在线查看")
    expect(link).to_have_attribute("href", f"/projects/attachments/{attachment.pk}/?inline=1")
    with page.expect_popup() as popup:
        link.click()
    assert popup.value.url.endswith("?inline=1")  # opened in the browser, not saved as a download
    response = page.request.get(f"{base}/projects/attachments/{attachment.pk}/?inline=1")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline")
    assert response.body() == PDF_BYTES


def test_inline_scans_keep_the_access_checks(
    client, approved_review, designer, institution_staff, honghe_reviewer, outsider
):
    from django.core.files.base import ContentFile

    attachment = Attachment(
        kind="drawing_review",
        record_id=approved_review.pk,
        revision=1,
        original_name="合格书.pdf",
        content_type="application/pdf",
        size=len(PDF_BYTES),
        sha256="0" * 64,
        uploaded_by=designer,
    )
    attachment.file.save("合格书.pdf", ContentFile(PDF_BYTES), save=True)
    url = f"/projects/attachments/{attachment.pk}/?inline=1"
    client.force_login(institution_staff)  # the institution that confirmed it
    allowed = client.get(url)
    assert allowed.status_code == 200
    assert allowed["Content-Disposition"].startswith("inline")
    assert allowed["X-Content-Type-Options"] == "nosniff"
    client.force_login(honghe_reviewer)  # a reviewer, but of 红河
    assert client.get(url).status_code == 404
    client.force_login(outsider)
    assert client.get(url).status_code == 404
