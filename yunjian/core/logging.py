"""Logging filters: denials without tracebacks, and no one-time secrets in any log line."""

from __future__ import annotations

import logging
import re

# /roster/activate/<uidb64>/<token>/ : the token is a one-time password until it is used.
ACTIVATION_RE = re.compile(r"(/roster/activate/)[^/\s?\"]+/[^/\s?\"]+")
REDACTED = r"\1[redacted]"


def redact(text: str) -> str:
    return ACTIVATION_RE.sub(REDACTED, text)


class DenialFilter(logging.Filter):
    """A 403 is the access rules working, not an error: log it at INFO, one line, no traceback.

    Django's `log_response` logs every PermissionDenied at WARNING with the exception attached; a
    probe of a few hundred URLs then writes megabytes of identical tracebacks.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.levelno = logging.INFO
            record.levelname = logging.getLevelName(logging.INFO)
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        return True


class RedactSecretsFilter(logging.Filter):
    """Keep one-time activation links out of the logs (django.request, the dev server, gunicorn)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = ()
        return True
