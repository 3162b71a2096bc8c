"""The optional SMS gateway: an HTTP hook (SMS_HOOK_URL), off when the setting is empty.

The gateway receives a JSON POST {"phone": "...", "text": "..."} and answers 2xx when it has taken the
message; anything else is a failure the send job retries.
"""

from __future__ import annotations

import requests
from django.conf import settings


class SmsError(Exception):
    pass


def send(phone: str, text: str) -> None:
    if not settings.SMS_HOOK_URL:
        raise SmsError("未配置短信网关（SMS_HOOK_URL）")
    response = requests.post(
        settings.SMS_HOOK_URL, json={"phone": phone, "text": text}, timeout=settings.SMS_HOOK_TIMEOUT_SECONDS
    )
    if not 200 <= response.status_code < 300:
        raise SmsError(f"短信网关返回 {response.status_code}")
