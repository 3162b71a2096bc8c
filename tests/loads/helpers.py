from __future__ import annotations

import io

from django.core.management import call_command


def load(*args) -> tuple[int, str, str]:
    """Run load_records; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("load_records", *[str(a) for a in args], stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()
