"""Security headers: a strict Content-Security-Policy, a Permissions-Policy, and no caching of
anything a signed-in user sees; templates carry no inline script for the policy to break."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def csp_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("url", ["/login/", "/healthz", "/projects/"])
def test_every_response_carries_the_policies(client, world, url):
    response = client.get(url)
    policy = csp_of(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


def test_signed_in_pages_and_exports_are_never_cached(client, reviewer):
    client.force_login(reviewer)
    for url in (reverse("core:home"), reverse("review:inbox"), reverse("review:inbox-export")):
        response = client.get(url, follow=True)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"], url
        assert "max-age" not in response["Cache-Control"]


def test_a_signed_in_403_is_not_cached_either(client, designer):
    client.force_login(designer)
    response = client.get(reverse("core:audit-log"))
    assert response.status_code == 403
    assert "no-store" in response["Cache-Control"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"\sstyle\s*=", re.IGNORECASE)


@pytest.mark.parametrize(
    "path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_templates_have_no_inline_script_handler_or_style(path):
    text = path.read_text(encoding="utf-8")
    assert not INLINE_SCRIPT.search(text), "inline <script>: move it to static/js/"
    assert not INLINE_HANDLER.search(text), "inline event handler: bind it in static/js/"
    assert "javascript:" not in text.lower(), "javascript: URL: bind it in static/js/"
    assert not INLINE_STYLE.search(text), "inline style: move it to static/css/"
