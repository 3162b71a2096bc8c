"""The CA sign-in tests' world: a throwaway PKI (tests/ca/pki.py), Debian's nginx running the
repository's proxy configuration in front of the live test server (tests/ca/proxy.py), the shared
secret, and a helper that sends the proxy's headers as the proxy would (for the app-level tests)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from tests.ca import pki
from tests.ca.proxy import Nginx

SECRET = "test-proxy-secret-7f3c9a1e5b2d4c6f8a0b1c2d3e4f5a6b"


@dataclass
class PKI:
    dir: Path
    ca: pki.Issued
    other_ca: pki.Issued
    server: pki.Issued
    good: pki.Issued
    second: pki.Issued
    expired: pki.Issued
    revoked: pki.Issued
    foreign: pki.Issued

    def files(self, name: str) -> tuple[str, str]:
        """(certificate, key) paths of one client certificate, for requests' `cert=`."""
        return getattr(self, name).write(self.dir, name)

    @property
    def trust(self) -> str:
        return str(self.dir / "ca.pem")


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> PKI:
    directory = tmp_path_factory.mktemp("pki")
    ca = pki.make_ca("云南省测试CA")
    other = pki.make_ca("别处测试CA", "别处数字证书认证中心（测试）")
    made = PKI(
        dir=directory,
        ca=ca,
        other_ca=other,
        server=pki.issue(ca, "127.0.0.1", server=True, org="云南省住房和城乡建设厅"),
        good=pki.issue(ca, "李审核"),
        second=pki.issue(ca, "王企业", org="施工总包公司"),
        expired=pki.issue(ca, "过期证书", days=(-60, -1)),
        revoked=pki.issue(ca, "吊销证书"),
        foreign=pki.issue(other, "外省证书"),
    )
    (directory / "ca.pem").write_bytes(ca.pem)
    (directory / "crl.pem").write_bytes(pki.crl(ca, [made.revoked]))
    return made


@pytest.fixture(autouse=True)
def _proxy_secret(settings):
    settings.CA_PROXY_SECRET = SECRET
    settings.CA_TRUSTED_PROXIES = []


@pytest.fixture(scope="module")
def nginx(certs, live_server, tmp_path_factory):
    directory = tmp_path_factory.mktemp("nginx")
    server_cert, server_key = certs.server.write(directory, "server")
    upstream = live_server.url.removeprefix("http://")
    proxy = Nginx(
        directory,
        {
            "YUNJIAN_SERVER_NAME": "127.0.0.1",
            "YUNJIAN_TLS_CERT": server_cert,
            "YUNJIAN_TLS_KEY": server_key,
            "YUNJIAN_CA_BUNDLE": certs.trust,
            "YUNJIAN_CA_CRL": str(certs.dir / "crl.pem"),
            "YUNJIAN_UPSTREAM": upstream,
            "YUNJIAN_PROXY_SECRET": SECRET,
        },
    ).start()
    yield proxy
    proxy.stop()


def browser(certs: PKI, cert: str | None = None) -> requests.Session:
    """A client of the proxy: trusts the test CA's server certificate, presents `cert` if given."""
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE or a proxy from the environment would take over
    session.verify = certs.trust
    if cert:
        session.cert = certs.files(cert)
    return session


def proxy_headers(issued: pki.Issued, *, secret: str = SECRET, verify: str = "SUCCESS") -> dict:
    """The headers the proxy sets for a verified certificate, as Django test client extras."""
    cert = issued.cert
    return {
        "HTTP_X_SSL_CLIENT_VERIFY": verify,
        "HTTP_X_SSL_CLIENT_SERIAL": format(cert.serial_number, "X"),
        "HTTP_X_SSL_CLIENT_S_DN": cert.subject.rfc4514_string(),
        "HTTP_X_SSL_CLIENT_I_DN": cert.issuer.rfc4514_string(),
        "HTTP_X_SSL_CLIENT_CERT": quote(issued.pem.decode()),
        "HTTP_X_YUNJIAN_PROXY_SECRET": secret,
    }
