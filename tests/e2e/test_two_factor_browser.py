"""A reviewer enrols an authenticator app in Chromium, then signs in with password and code."""

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.conftest import totp_token
from yunjian.core.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def submit_password(page, base_url, username):
    page.goto(f"{base_url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")


def test_reviewer_enrols_totp_then_signs_in_with_it_and_with_a_backup_code(page, demo_site):
    submit_password(page, demo_site.url, "reviewer_qj")
    # No page before the second factor: straight to enrolment, QR code drawn by the server.
    expect(page).to_have_url(re.compile(r"/account/two-factor/"))
    expect(page.locator("h1")).to_contain_text("绑定动态口令")
    expect(page.locator(".otp-qr svg")).to_be_visible()
    page.goto(f"{demo_site.url}/review/inbox/")
    expect(page).to_have_url(re.compile(r"/account/two-factor/"))

    device = TOTPDevice.objects.get(user__username="reviewer_qj", confirmed=False)
    # The manual key shown on the page is the device's key.
    shown = page.locator("#otp-secret").inner_text().replace(" ", "")
    from base64 import b32encode

    assert shown == b32encode(device.bin_key).decode()
    page.fill("input[name=token]", "000000" if totp_token(device) != "000000" else "111111")
    page.click("button.btn.primary")
    expect(page.locator(".errorlist")).to_contain_text("动态口令不正确")
    device.throttle_reset()
    page.fill("input[name=token]", totp_token(device))
    page.click("button.btn.primary")
    codes = page.locator(".backup-codes li").all_inner_texts()
    assert len(codes) == 10
    page.click("text=已保存，继续")
    expect(page.locator("h1")).to_contain_text("待办审核")  # the page asked for before the second factor

    page.click(".userbox button:has-text('退出')")
    submit_password(page, demo_site.url, "reviewer_qj")
    expect(page).to_have_url(re.compile(r"/account/two-factor/verify/"))
    page.fill("input[name=token]", totp_token(TOTPDevice.objects.get(user__username="reviewer_qj")))
    page.click("button.btn.primary")
    expect(page.locator("h1")).to_contain_text("审核工作台")

    page.click(".userbox button:has-text('退出')")
    submit_password(page, demo_site.url, "reviewer_qj")
    page.fill("input[name=token]", codes[0])
    page.click("button.btn.primary")
    expect(page.locator(".messages")).to_contain_text("还剩9个")
    expect(page.locator("h1")).to_contain_text("审核工作台")


def test_enterprise_user_signs_in_with_a_password_and_finds_the_account_security_page(page, demo_site):
    submit_password(page, demo_site.url, "builder1")
    expect(page.locator("h1")).to_contain_text("云南建投第一建设有限公司")
    page.click("text=账号安全")
    expect(page.locator("h1")).to_contain_text("修改密码")
    page.click("text=动态口令（双因素认证）")
    expect(page.locator(".callout.info")).to_contain_text("自愿启用")
