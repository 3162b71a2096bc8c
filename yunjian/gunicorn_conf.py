"""gunicorn settings for production (`gunicorn -c python:yunjian.gunicorn_conf yunjian.wsgi`).

The access log goes to stdout without one-time activation links (yunjian.core.logging.redact).
"""

from gunicorn.glogging import Logger

from yunjian.core.logging import redact


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        # The request line, path, referer and any header or environ atom: a link can be in any of them.
        return {
            key: redact(value) if isinstance(value, str) else value
            for key, value in super().atoms(resp, req, environ, request_time).items()
        }


logger_class = RedactingLogger
accesslog = "-"
timeout = 60
