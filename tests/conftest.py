"""Shared fixtures: the world of the notice in miniature, and named personas.

曲靖市 (5303) with 麒麟区 (530302) is where most tests live; 红河州 (5325) is "elsewhere".
"""

from __future__ import annotations

import os
import shutil

import pytest
from django.test import Client as DjangoClient

from projects.stages import Stage
from tests import factories as f

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make are synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
from yunjian.core.models import Division, Organization, Role


def ensure_divisions() -> None:
    """Transactional tests flush the tables; put the divisions (a migration's data) back."""
    if not Division.objects.exists():
        from importlib import import_module

        from django.apps import apps

        migration = import_module("yunjian.core.migrations.0002_divisions_zone_audit_guard")
        migration.load_divisions(apps, None)


@pytest.fixture(autouse=True)
def _divisions(request):
    """Divisions are migration data; a transactional test's flush removes them, so restore on demand."""
    names = request.fixturenames
    if "transactional_db" in names or "live_server" in names:
        request.getfixturevalue("transactional_db")
    elif "db" in names or request.node.get_closest_marker("django_db"):
        request.getfixturevalue("db")
    else:
        return
    ensure_divisions()


@pytest.fixture(autouse=True)
def _empty_cache(request, _divisions):
    """Django's cache (the public query's results and the per-address request counts) starts empty.

    The cache is a database table (yunjian.core.cache): it is cleared inside the test's own
    transaction, after the database fixture, and only for tests that use the database."""
    names = request.fixturenames
    if not (
        "db" in names
        or "transactional_db" in names
        or "live_server" in names
        or request.node.get_closest_marker("django_db")
    ):
        return
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def world(db):
    """Organizations of every kind in 曲靖 and 红河, and the sync bureau."""
    K = Organization.Kind
    ensure_divisions()
    return {
        "design": f.make_org("设计院", K.DESIGN),
        "design_other": f.make_org("另一设计院", K.DESIGN),
        "survey": f.make_org("勘察院", K.SURVEY),
        "builder": f.make_org("施工总包公司", K.GENERAL_CONTRACTOR),
        "builder_other": f.make_org("另一施工公司", K.GENERAL_CONTRACTOR, division="532501"),
        "specialty": f.make_org("专业承包公司", K.SPECIALTY_CONTRACTOR),
        "supervision": f.make_org("监理公司", K.SUPERVISION),
        "owner": f.make_org("建设单位", K.OWNER),
        "institution": f.make_org("审图中心", K.REVIEW_INSTITUTION),
        "institution_other": f.make_org("另一审图机构", K.REVIEW_INSTITUTION),
        "bureau_qlq": f.make_org("麒麟区住房和城乡建设局", K.HOUSING_BUREAU, division="530302"),
        "bureau_hh": f.make_org("红河州住房和城乡建设局", K.HOUSING_BUREAU, division="532500"),
        "division": f.make_org("省厅勘察设计处", K.PROVINCE_DEPT, K.DESIGN_DIVISION, division="530000"),
    }


# --- signing in in tests -----------------------------------------------------------------------


class Client(DjangoClient):
    """`force_login` skips authentication entirely, the password as well as the second factor: so the
    session it makes is also verified, with a confirmed TOTP device, for the roles that need one. The
    tests of the sign-in itself (tests/core/test_sign_in.py) post the real forms instead."""

    def force_login(self, user, backend=None):
        super().force_login(user, backend)
        if user.otp_required_by_role:
            verify_session(self, user)


def verify_session(client, user) -> None:
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from yunjian.core.signin import OTP_PENDING

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[OTP_PENDING] = False
    session.save()


@pytest.fixture
def client():
    return Client()


# --- personas -----------------------------------------------------------------------------


@pytest.fixture
def designer(world):
    return f.make_user("alice_design", world["design"], Role.ENTERPRISE)


@pytest.fixture
def other_designer(world):
    return f.make_user("dora_design", world["design_other"], Role.ENTERPRISE)


@pytest.fixture
def contractor(world):
    return f.make_user("bob_builder", world["builder"], Role.ENTERPRISE)


@pytest.fixture
def other_contractor(world):
    return f.make_user("olga_builder", world["builder_other"], Role.ENTERPRISE)


@pytest.fixture
def specialist(world):
    return f.make_user("sam_specialty", world["specialty"], Role.ENTERPRISE)


@pytest.fixture
def supervisor(world):
    return f.make_user("susan_supervision", world["supervision"], Role.ENTERPRISE)


@pytest.fixture
def institution_staff(world):
    return f.make_user("ivan_institution", world["institution"], Role.INSTITUTION)


@pytest.fixture
def other_institution_staff(world):
    return f.make_user("irene_institution", world["institution_other"], Role.INSTITUTION)


@pytest.fixture
def division_staff(world):
    return f.make_user("diana_division", world["division"], Role.DESIGN_DIVISION)


@pytest.fixture
def reviewer(world):
    """曲靖市 reviewer for every stage: sees all of 曲靖's counties."""
    from projects.workflow import REVIEW_STAGES

    return f.make_reviewer("rita_qujing", "530300", *REVIEW_STAGES)


@pytest.fixture
def county_permit_reviewer(world):
    return f.make_reviewer("ken_qilin", "530302", Stage.PERMIT, org=world["bureau_qlq"])


@pytest.fixture
def completion_reviewer(world):
    return f.make_reviewer("carl_completion", "530300", Stage.COMPLETION)


@pytest.fixture
def honghe_reviewer(world):
    from projects.workflow import REVIEW_STAGES

    return f.make_reviewer("hank_honghe", "532500", *REVIEW_STAGES, org=world["bureau_hh"])


@pytest.fixture
def outsider(world):
    """Signed in, but belongs to nothing relevant: an enterprise with no role on any project."""
    org = f.make_org("无关企业", Organization.Kind.SUPERVISION, division="532501")
    return f.make_user("charlie_outsider", org, Role.ENTERPRISE)


@pytest.fixture
def province_admin(world):
    return f.make_user("pat_admin", world["division"], Role.PROVINCE_ADMIN, is_staff=True)


# --- a project through the workflow ----------------------------------------------------------


@pytest.fixture
def project(world):
    return f.make_project("530302", owner=world["owner"], name="麒麟区测试项目")


@pytest.fixture
def approved_review(project, world, designer, institution_staff, division_staff):
    review = f.register_review(project, world["design"], world["institution"])
    f.complete_and_submit_review(review, designer)
    f.approve(review, institution_staff)
    return f.approve(review, division_staff)


# --- browser ---------------------------------------------------------------------------------


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail(
            "未找到 Debian 的 chromium（设置 CHROMIUM_PATH 或 apt-get install chromium）；浏览器测试不能跳过。"
        )
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {
        "executable_path": chromium_path(),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args():
    return {"locale": "zh-CN", "timezone_id": "Asia/Shanghai", "viewport": {"width": 1366, "height": 768}}


@pytest.fixture
def demo_site(live_server, transactional_db):
    """The live server with the demo organizations, accounts and projects loaded."""
    ensure_divisions()
    from yunjian.core import demo

    orgs = demo.load_organizations()
    demo.load_accounts(orgs)
    demo.load_projects(orgs)
    return live_server


def totp_token(device) -> str:
    """The code the person's authenticator app shows, computed from the device's key like the app
    does; a later time step if the current one was already used (a TOTP code is accepted once)."""
    import time

    from django_otp.oath import TOTP

    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if totp.t() <= device.last_t:
        totp.time += device.step * (device.last_t - totp.t() + 1)
    return f"{totp.token():0{device.digits}d}"


def login(page, base_url: str, username: str, password: str | None = None) -> None:
    """Sign in as a person would: the password, then the second factor where the role needs one
    (enrolling the authenticator app on first sign-in)."""
    import re

    from django_otp.plugins.otp_totp.models import TOTPDevice

    from yunjian.core.demo import DEMO_PASSWORD

    page.goto(f"{base_url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password or DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    if re.search(r"/account/two-factor/verify/", page.url):
        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        page.fill("input[name=token]", totp_token(device))
        page.click("button.btn.primary")
        page.wait_for_load_state()
    elif re.search(r"/account/two-factor/", page.url):
        device = TOTPDevice.objects.get(user__username=username, confirmed=False)
        page.fill("input[name=token]", totp_token(device))
        page.click("button.btn.primary")
        page.click("text=已保存，继续")
        page.wait_for_load_state()
