"""Send platform-originated records to yunjian's inbound endpoint, signed like any exchange batch."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from sync import protocol, signing


def push(url: str, secret: str, items: list[protocol.Item], timeout: float = 10) -> tuple[int, Any]:
    """POST a signed envelope (sender "platform") to `url`; return (HTTP status, decoded JSON).

    A body that is not JSON comes back as {"error": <text>}. Network failures raise OSError.
    """
    body = protocol.build_envelope(items, sender=protocol.SENDER_PLATFORM)
    request = urllib.request.Request(
        url, data=body, headers=signing.signed_headers(secret, body), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, _decode(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, _decode(error.read())


def _decode(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {"error": body.decode("utf-8", "replace")[:500]}


def load_items(path: str) -> list[protocol.Item]:
    """Items from a JSON file holding either a list of items or a whole envelope."""
    with open(path, encoding="utf-8") as handle:
        content = json.load(handle)
    if isinstance(content, dict):
        content = content.get("items")
    if not isinstance(content, list):
        raise TypeError("文件应为记录列表，或带 items 列表的报文")
    return content
