"""A fixed-window request limit per client address, counted in Django's cache.

The address is `yunjian.core.audit.client_ip` (behind TRUSTED_PROXY_COUNT proxies, the address the
outermost trusted proxy saw). The cache is shared by every server process (yunjian.core.cache: a
database table; its increment locks the row, so concurrent requests are all counted).
"""

from __future__ import annotations

import time

from django.core.cache import cache

from yunjian.core import audit


def hit(request, scope: str, *, limit: int, window: int) -> bool:
    """Count this request; False once the address made more than `limit` in the current window."""
    ip = audit.client_ip(request) or "unknown"
    bucket = int(time.time()) // window
    key = f"ratelimit:{scope}:{ip}:{bucket}"
    if cache.add(key, 1, timeout=window + 5):
        return True
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window + 5)
        return True
    return count <= limit
