"""In Chromium: a permit approved by the reviewer opens its project on the platform only once the
sync worker has delivered it — then, and only then, the general contractor enters the completion."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from projects.models import Completion, ConstructionPermit, Project
from tests.conftest import login
from tests.sync.conftest import SYNC_SECRET, worker_env

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
PERMIT = "5303021903050005-SX-001"  # demo project 5: a permit waiting at 麒麟区住建局


@pytest.fixture
def platform(settings, tmp_path):
    """A live reference receiver; set before demo_site so the demo data delivers to a scratch file."""
    from sync.receiver import Receiver

    settings.SYNC_DEMO_RECEIVER_DB = str(tmp_path / "demo-receiver.sqlite3")
    settings.SYNC_SECRET = SYNC_SECRET
    receiver = Receiver(secret=SYNC_SECRET)
    receiver.start()
    settings.SYNC_ENDPOINT = receiver.base_url
    yield receiver
    receiver.stop()


def run_worker(receiver) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", "sync_worker", "--once"],
        cwd=ROOT,
        env=worker_env(receiver),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def approve_permit(page, base_url: str, permit: ConstructionPermit) -> None:
    login(page, base_url, "reviewer_qlq")
    page.goto(f"{base_url}/review/records/permit/{permit.pk}/")
    with page.expect_navigation():
        page.click("button[name=decision][value=approve]")
    expect(page.locator(".messages")).to_be_visible()
    page.context.clear_cookies()


def test_the_contractor_enters_the_completion_only_once_the_platform_has_the_project(
    page, platform, demo_site
):
    base = demo_site.url
    permit = ConstructionPermit.objects.select_related("project").get(permit_num=PERMIT)
    project = permit.project
    approve_permit(page, base, permit)
    assert ConstructionPermit.objects.get(pk=permit.pk).state == "approved"

    # Approved, not yet acknowledged by the platform: the completion cannot be entered.
    login(page, base, "builder1")
    page.goto(f"{base}/projects/{project.pk}/")
    expect(page.locator(".callout.info")).to_contain_text("正在同步至省一体化平台")
    expect(page.get_by_role("link", name="新增竣工验收信息")).to_have_count(0)
    page.goto(f"{base}/projects/{project.pk}/completions/new/")
    expect(page.locator("#closed")).to_contain_text("正在同步至省一体化平台")

    out = run_worker(platform)
    assert "转人工处理 0" in out
    assert (
        platform.store.record_data("TBBuilderLicenceManage", f"permit:{permit.pk}")["BuilderLicenceNum"]
        == PERMIT
    )
    assert Project.objects.get(pk=project.pk).platform_synced_at is not None

    # Acknowledged: the contractor's project page offers the completion, and it can be entered.
    page.goto(f"{base}/projects/{project.pk}/")
    expect(page.locator("body")).not_to_contain_text("正在同步至省一体化平台")
    page.get_by_role("link", name="新增竣工验收信息").click()
    expect(page).to_have_url(re.compile(rf"/projects/{project.pk}/completions/new/"))
    page.fill("input[name=acceptance_num]", "5303021903050005-JX-001")
    page.fill("input[name=actual_start]", "2019-06-01")
    page.fill("input[name=acceptance_date]", "2021-06-30")
    page.get_by_role("button", name="保存草稿").last.click()
    expect(page.locator("body")).to_contain_text("5303021903050005-JX-001")
    assert Completion.objects.filter(project=project, acceptance_num="5303021903050005-JX-001").exists()


def test_the_contractors_project_page_shows_synced_with_the_time(page, platform, demo_site):
    base = demo_site.url
    permit = ConstructionPermit.objects.select_related("project").get(permit_num=PERMIT)
    approve_permit(page, base, permit)
    run_worker(platform)
    login(page, base, "builder1")
    page.goto(f"{base}/projects/{permit.project.pk}/")
    status = page.locator("[data-sync-state]")
    expect(status).to_contain_text("已同步至省一体化平台", timeout=2000)
    expect(status).to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}"))
