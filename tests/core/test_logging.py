"""Denials are logged at INFO without a traceback; one-time activation links never reach a log."""

import logging
from datetime import timedelta
from types import SimpleNamespace

from django.urls import reverse
from gunicorn.config import Config

from yunjian.gunicorn_conf import RedactingLogger

LINK = "/roster/activate/MTIz/cqv1x2-0123456789abcdef0123456789abcdef/"


def test_a_403_is_one_info_line_without_a_traceback(client, designer, caplog):
    client.force_login(designer)
    with caplog.at_level(logging.INFO, logger="django.request"):
        response = client.get(reverse("core:audit-log"))
    assert response.status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) == 1
    assert records[0].levelno == logging.INFO
    assert records[0].exc_info is None
    assert "Traceback" not in caplog.text


def test_a_404_is_still_a_warning(client, designer, caplog):
    client.force_login(designer)
    with caplog.at_level(logging.INFO, logger="django.request"):
        assert client.get("/projects/999999/").status_code == 404
    assert [r.levelno for r in caplog.records if r.name == "django.request"] == [logging.WARNING]


def test_the_dev_server_and_request_logs_hide_activation_links(caplog):
    with caplog.at_level(logging.INFO):
        logging.getLogger("django.server").info('"GET %s HTTP/1.1" 200 1234', LINK)
        logging.getLogger("django.request").warning("Not Found: %s", LINK)
    assert "cqv1x2" not in caplog.text
    assert "MTIz" not in caplog.text
    assert caplog.text.count("/roster/activate/[redacted]") == 2


def test_the_gunicorn_access_log_hides_activation_links():
    logger = RedactingLogger(Config())
    request = SimpleNamespace(
        method="GET",
        path=LINK,
        query="",
        uri=LINK,
        version=(1, 1),
        headers=[("REFERER", "https://yunjian.example.gov.cn" + LINK), ("USER-AGENT", "x")],
    )
    response = SimpleNamespace(status="200 OK", sent=10, headers=[])
    environ = {
        "REMOTE_ADDR": "10.0.0.1",
        "RAW_URI": LINK,
        "REQUEST_METHOD": "GET",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    atoms = logger.atoms(response, request, environ, timedelta(seconds=0.1))
    text = " ".join(str(v) for v in atoms.values())
    assert "/roster/activate/" in text
    assert "cqv1x2" not in text
    assert "MTIz" not in text
