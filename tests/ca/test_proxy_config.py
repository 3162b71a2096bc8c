"""The shipped proxy configuration and its harness: every ${YUNJIAN_…} of the template is one the
container's entrypoint fills in, the rendered file passes `nginx -t`, and a machine without nginx
fails the CA tests with a clear message instead of skipping them."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.ca import proxy

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "nginx"


def test_entrypoint_fills_every_placeholder_of_the_template():
    template = set(re.findall(r"\$\{(YUNJIAN_[A-Z_]+)\}", (DEPLOY / "yunjian.conf.template").read_text()))
    entrypoint = (DEPLOY / "entrypoint.sh").read_text()
    substituted = set(re.findall(r"\$\{(YUNJIAN_[A-Z_]+)\}", entrypoint.split("vars=", 1)[1].splitlines()[0]))
    assert template == substituted
    assert {"YUNJIAN_CA_BUNDLE", "YUNJIAN_CA_CRL", "YUNJIAN_PROXY_SECRET"} <= template


def test_configuration_sets_every_certificate_header_itself():
    text = (DEPLOY / "yunjian.conf.template").read_text()
    assert "ssl_verify_client optional;" in text
    for header in ("Verify", "Serial", "S-DN", "I-DN", "Cert"):
        assert f"proxy_set_header X-SSL-Client-{header} $ssl_client_" in text
    assert 'proxy_set_header X-Yunjian-Proxy-Secret "${YUNJIAN_PROXY_SECRET}";' in text


def test_rendered_configuration_passes_nginx_check(certs, tmp_path):
    server_cert, server_key = certs.server.write(tmp_path, "server")
    nginx = proxy.Nginx(
        tmp_path,
        {
            "YUNJIAN_SERVER_NAME": "localhost",
            "YUNJIAN_TLS_CERT": server_cert,
            "YUNJIAN_TLS_KEY": server_key,
            "YUNJIAN_CA_BUNDLE": certs.trust,
            "YUNJIAN_CA_CRL": str(certs.dir / "crl.pem"),
            "YUNJIAN_UPSTREAM": "127.0.0.1:9",
            "YUNJIAN_PROXY_SECRET": "x" * 40,
        },
    )
    result = subprocess.run(nginx._cmd("-t"), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_missing_nginx_fails_with_a_clear_message(monkeypatch):
    monkeypatch.setattr(proxy.shutil, "which", lambda name: None)
    monkeypatch.setattr(proxy.Path, "exists", lambda self: False)
    with pytest.raises(RuntimeError, match="nginx is not installed"):
        proxy.nginx_binary()


def test_unfilled_placeholder_is_an_error():
    with pytest.raises(KeyError):
        proxy.render({"YUNJIAN_SERVER_NAME": "x"})
