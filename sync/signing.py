"""Request signing for the platform exchange: HMAC-SHA256 over "<timestamp>." + body.

Pure standard library (no Django) so the worker, the inbound endpoint and the reference
receiver share one implementation.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import OrderedDict

CONTENT_TYPE = "application/json; charset=utf-8"
TIMESTAMP_HEADER = "X-Yunjian-Timestamp"
SIGNATURE_HEADER = "X-Yunjian-Signature"
SIGNATURE_PREFIX = "sha256="
DEFAULT_MAX_SKEW = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = int(time.time() if now is None else now)
    return {
        "Content-Type": CONTENT_TYPE,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }


def verify(
    secret: str,
    timestamp_header: str | None,
    signature_header: str | None,
    body: bytes,
    now: float | None = None,
    max_skew: int = DEFAULT_MAX_SKEW,
) -> str:
    """Return "" when the signature is valid and fresh, otherwise why not (in Chinese)."""
    if not secret:
        # Fail closed: an unconfigured secret must never accept everything.
        return "接收方未配置签名密钥"
    if not timestamp_header or not signature_header:
        return "缺少签名（需要 X-Yunjian-Timestamp 与 X-Yunjian-Signature 请求头）"
    try:
        timestamp = int(timestamp_header.strip())
    except ValueError:
        return "时间戳格式无效（应为 Unix 秒数）"
    current = time.time() if now is None else now
    if abs(current - timestamp) > max_skew:
        return "时间戳超出允许范围（可能是重放请求）"
    expected = sign(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature_header.strip().encode()):
        return "签名无效"
    return ""


class ReplayGuard:
    """Remembers signatures already used, in memory, for as long as their timestamp is acceptable.

    A signature covers the timestamp, so once `max_skew` has passed after that timestamp
    `verify` rejects the request anyway and the entry can be forgotten. The guard is bounded:
    past `max_entries` the oldest entries are dropped, so size it above the request rate
    times 2 × max_skew.
    """

    def __init__(self, max_skew: int = DEFAULT_MAX_SKEW, max_entries: int = 100_000) -> None:
        self.max_skew = max_skew
        self.max_entries = max_entries
        self._expires: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_use(self, signature: str, timestamp: int | None = None, now: float | None = None) -> bool:
        """Record `signature`; return True the first time, False when it is a replay."""
        current = time.time() if now is None else now
        expires = max(current, timestamp or 0) + self.max_skew
        with self._lock:
            self._prune(current)
            if signature in self._expires:
                return False
            self._expires[signature] = expires
            while len(self._expires) > self.max_entries:
                self._expires.popitem(last=False)
            return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._expires)

    def _prune(self, now: float) -> None:
        # Insertion order is nearly expiry order; an entry stuck behind a later one only lingers.
        while self._expires:
            signature, expires = next(iter(self._expires.items()))
            if expires > now:
                break
            del self._expires[signature]
