"""Refuse known and guessable secrets in production (imported by settings: no Django imports here)."""

from __future__ import annotations

import math
import zlib
from collections import Counter

# Values that are public: the demo defaults, the examples the README and the Dockerfile once carried.
KNOWN_SECRETS = frozenset(
    {
        "insecure-demo-key-only-for-debug-runs-0123456789abcdef",
        "build-only-secret-key-not-used-at-runtime-0123456789abcdef",
        "build-only",
        "demo-shared-secret",
        "changeme",
        "secret",
    }
)
MIN_BITS = 120
GENERATE_HINT = '可用 python -c "import secrets; print(secrets.token_urlsafe(48))" 生成'


def estimated_bits(value: str) -> int:
    """A conservative estimate of the entropy of `value`: the lower of its character statistics
    (Shannon entropy × length) and its compressed size (which catches repeated patterns)."""
    if not value:
        return 0
    counts = Counter(value)
    n = len(value)
    shannon = -sum(c / n * math.log2(c / n) for c in counts.values()) * n
    compressed = (len(zlib.compress(value.encode(), 9)) - 8) * 8
    return int(min(shannon, compressed))


def secret_problem(name: str, value: str, *, min_length: int) -> str:
    """Why `value` is not acceptable as the production secret `name` ("" when it is)."""
    if value.strip() in KNOWN_SECRETS or value.startswith("django-insecure-"):
        return f"{name} 是公开的演示或示例值，生产环境不能使用；{GENERATE_HINT}"
    if len(value) < min_length:
        return f"{name} 至少需要 {min_length} 个字符（当前 {len(value)} 个）；{GENERATE_HINT}"
    if len(set(value)) < 10 or estimated_bits(value) < MIN_BITS:
        return f"{name} 过于简单（重复或可猜测的字符），请使用随机生成的值；{GENERATE_HINT}"
    return ""
