"""Production settings fail loudly and pass `check --deploy`; the demo loader is idempotent and guarded."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from yunjian.core.models import Organization, Role, User

ROOT = Path(__file__).resolve().parents[2]
PROD_ENV = {
    "DEBUG": "false",
    # Random-looking values made for this test (the deploy check needs strong ones).
    "SECRET_KEY": "Qm7vT2xR9kLp4Zs8Wd1Hc6Nf3Jy5Bg0Ae-Uq_Ko8Xi2Vt7Ml4Rp9Sw3Dn6Fh1Cz5Ey",
    "ALLOWED_HOSTS": "yunjian.example.gov.cn",
    "SYNC_SECRET": "p4N8sW2qZ6vK1xR9mT3bH7cJ5dL0fY8gA2eU6iO4",
    "FIELD_ENCRYPTION_KEY": "3oFvQyH1u2xV3iEhsk4uvF1A0dHOwmy2yYmo3lL9Q8Y=",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
}


def manage(*args, env):
    drop = {*PROD_ENV, "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in drop}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PROD_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_without_secret_key_fails_loudly():
    env = {k: v for k, v in PROD_ENV.items() if k != "SECRET_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SECRET_KEY", "insecure-demo-key-only-for-debug-runs-0123456789abcdef", "公开的演示或示例值"),
        ("SECRET_KEY", "build-only-secret-key-not-used-at-runtime-0123456789abcdef", "公开的演示或示例值"),
        ("SECRET_KEY", "a" * 50, "过于简单"),
        ("SECRET_KEY", "abcdefghij" * 5, "过于简单"),
        ("SECRET_KEY", "short-Qm7vT2xR9kLp4", "至少需要 50 个字符"),
        ("SYNC_SECRET", "x", "至少需要 32 个字符"),
        ("SYNC_SECRET", "demo-shared-secret", "公开的演示或示例值"),
        ("SYNC_SECRET", "0" * 40, "过于简单"),
        ("SYNC_INBOUND_SECRET", "b" * 40, "过于简单"),
        ("CA_PROXY_SECRET", "x", "至少需要 32 个字符"),
        ("CA_PROXY_SECRET", "changeme", "公开的演示或示例值"),
        ("FIELD_ENCRYPTION_KEY", "", "须设置 FIELD_ENCRYPTION_KEY"),
        ("FIELD_ENCRYPTION_KEY", "not-a-fernet-key", "无效的密钥"),
        ("FIELD_ENCRYPTION_KEY", PROD_ENV["FIELD_ENCRYPTION_KEY"] + ",c2hvcnQ=", "无效的密钥"),
    ],
)
def test_production_refuses_known_weak_or_missing_secrets(name, value, message):
    result = manage("check", env={**PROD_ENV, name: value})
    assert result.returncode != 0
    assert message in result.stderr
    assert name in result.stderr


def test_production_accepts_a_list_of_field_keys_for_rotation():
    result = manage(
        "check",
        env={**PROD_ENV, "FIELD_ENCRYPTION_KEY": PROD_ENV["FIELD_ENCRYPTION_KEY"] + ", " + "A" * 43 + "="},
    )
    assert result.returncode == 0, result.stderr


def test_malformed_boolean_fails_loudly():
    result = manage("check", env={**PROD_ENV, "DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_load_demo_refuses_production_configuration():
    result = manage("load_demo", env=PROD_ENV)
    assert result.returncode != 0
    assert "拒绝执行" in result.stderr


def test_load_demo_refuses_when_debug_is_off_in_process(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="生产配置"):
        call_command("load_demo")


def test_load_demo_is_idempotent_and_covers_every_role(db, settings, capsys):
    settings.DEBUG = True
    call_command("load_demo", "--json")
    accounts = json.loads(capsys.readouterr().out)
    call_command("load_demo", "--json")
    again = json.loads(capsys.readouterr().out)
    assert accounts == again
    assert {a["role"] for a in accounts} == set(Role.values)
    assert all(set(a) == {"username", "password", "role", "organization"} for a in accounts)
    assert User.objects.filter(username__in=[a["username"] for a in accounts]).count() == len(accounts)
    prefectures = {org.division_id[:4] for org in Organization.objects.all()}
    assert {"5301", "5303", "5325"} <= prefectures
    kinds = set().union(*(set(org.kind_list) for org in Organization.objects.all()))
    assert kinds == set(Organization.Kind.values)


def test_demo_projects_cover_every_state(db, settings):
    from projects.models import State
    from projects.workflow import KINDS

    settings.DEBUG = True
    call_command("load_demo")
    states = set()
    for model in (spec.model for spec in KINDS.values()):
        states |= set(model.objects.values_list("state", flat=True))
    assert states == set(State.values)
