"""Uploaded roster files between preview and apply: kept on the server, bound to the admin's session.

The bytes go to MEDIA_ROOT/roster-uploads/<token>.bin (the storage every app server already shares
for attachments); the session holds the token with the file's name and SHA-256. Apply reads the
bytes back from here only: a token that is not in the caller's session, or a file whose digest no
longer matches, is refused, so nothing a client sends at apply time is trusted.

A roster is full of ID numbers, so the file on disk is encrypted with a key made for that upload and
kept only in the session: the disk alone never holds a readable workbook. Applying the upload deletes
the file; files never applied are removed after a day (and are unreadable once the session ends).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

SESSION_KEY = "roster_uploads"
RESULTS_KEY = "roster_results"
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
KEEP_SECONDS = 24 * 3600
MAX_PER_SESSION = 5


class UploadExpired(Exception):
    """The token is unknown to this session, or its file is gone."""


@dataclass(frozen=True)
class StoredUpload:
    token: str
    name: str
    sha256: str
    content: bytes


def upload_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "roster-uploads"


def _path(token: str) -> Path:
    if not TOKEN_RE.match(token):
        raise UploadExpired(token)
    return upload_dir() / f"{token}.bin"


def save(session, *, content: bytes, name: str, user_id: int) -> str:
    """Keep `content` for this session and return its token."""
    _purge_stale()
    token = secrets.token_urlsafe(24)
    key = Fernet.generate_key()
    directory = upload_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = _path(token)
    with open(path, "xb") as handle:
        handle.write(Fernet(key).encrypt(content))
    uploads = dict(session.get(SESSION_KEY, {}))
    uploads[token] = {
        "name": name,
        "sha256": hashlib.sha256(content).hexdigest(),
        "user": user_id,
        "at": int(time.time()),
        "key": key.decode(),
    }
    for stale in sorted(uploads, key=lambda t: uploads[t]["at"])[:-MAX_PER_SESSION]:
        discard(session, stale, uploads)
    session[SESSION_KEY] = uploads
    return token


def load(session, token: str, *, user_id: int) -> StoredUpload:
    """The upload `token` of this session and user; UploadExpired otherwise."""
    meta = session.get(SESSION_KEY, {}).get(token)
    if not meta or meta.get("user") != user_id:
        raise UploadExpired(token)
    try:
        content = Fernet(meta["key"].encode()).decrypt(_path(token).read_bytes())
    except (OSError, KeyError, InvalidToken) as exc:
        raise UploadExpired(token) from exc
    if hashlib.sha256(content).hexdigest() != meta["sha256"]:
        raise UploadExpired(token)
    return StoredUpload(token=token, name=meta["name"], sha256=meta["sha256"], content=content)


def discard(session, token: str, uploads: dict | None = None) -> None:
    own = uploads is None
    uploads = dict(session.get(SESSION_KEY, {})) if own else uploads
    uploads.pop(token, None)
    with contextlib.suppress(OSError, UploadExpired):
        _path(token).unlink(missing_ok=True)
    if own:
        session[SESSION_KEY] = uploads


def remember_result(session, token: str, result: dict) -> None:
    results = dict(session.get(RESULTS_KEY, {}))
    results[token] = result
    for stale in list(results)[:-MAX_PER_SESSION]:
        results.pop(stale)
    session[RESULTS_KEY] = results


def result(session, token: str) -> dict | None:
    return session.get(RESULTS_KEY, {}).get(token)


def _purge_stale() -> None:
    directory = upload_dir()
    if not directory.is_dir():
        return
    cutoff = time.time() - KEEP_SECONDS
    with os.scandir(directory) as entries:
        for entry in entries:
            try:
                if entry.name.endswith(".bin") and entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
            except OSError:
                continue
