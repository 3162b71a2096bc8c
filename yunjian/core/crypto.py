"""Encryption at rest for personal data (身份证号码), and masking for display.

FIELD_ENCRYPTION_KEY holds one or more Fernet keys, newest first: the first encrypts (and keys the
lookup digest), every one decrypts, so a new key can be put in front and the rows re-encrypted with
`manage.py rotate_keys` before the old key is dropped. A value that no key decrypts is an error, never
an empty string: an unreadable ID number must not look like a missing one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(RuntimeError):
    """Stored personal data that no configured key decrypts (a lost or removed FIELD_ENCRYPTION_KEY)."""


def _key_list(key_setting: str) -> list[str]:
    return [key.strip() for key in key_setting.split(",") if key.strip()]


@lru_cache(maxsize=8)
def _fernet(key_setting: str, secret_key: str) -> MultiFernet:
    keys = _key_list(key_setting)
    if keys:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    # Demo only (settings refuse production without FIELD_ENCRYPTION_KEY).
    derived = hashlib.sha256(("yunjian-field-encryption:" + secret_key).encode()).digest()
    return MultiFernet([Fernet(base64.urlsafe_b64encode(derived))])


def _cipher() -> MultiFernet:
    return _fernet(settings.FIELD_ENCRYPTION_KEY, settings.SECRET_KEY)


def encrypt(value: str) -> str:
    return _cipher().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _cipher().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            "无法解密已存储的身份证号码：FIELD_ENCRYPTION_KEY 中没有加密它时使用的密钥"
            "（更换密钥时须把旧密钥留在列表末尾，并运行 manage.py rotate_keys）"
        ) from None


def rotate(token: str) -> str:
    """Re-encrypt `token` under the first (newest) key; raise DecryptionError if no key opens it."""
    try:
        return _cipher().rotate(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError("无法解密已存储的身份证号码，不能轮换密钥") from None


def digest(value: str) -> str:
    """Return a keyed digest of `value`, to find a person by ID number without decrypting every row."""
    keys = _key_list(settings.FIELD_ENCRYPTION_KEY)
    key = (keys[0] if keys else settings.SECRET_KEY).encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def mask_id_number(value: str) -> str:
    """Mask an ID number as 5303**********0412: region prefix and last four only."""
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]
