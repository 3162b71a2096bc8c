"""Settings of the benchmark's server only (bench/scale/run.py): the product's settings, plus the
bench-only URLconf with the two reference pages. Never used by the product or the tests.

The runner also sets, in the server's environment only: DEBUG=false, OTP_REQUIRED=false (the
personas sign in with their password; the second factor is a sign-in step, not part of any page
measured), SECURE_SSL_REDIRECT=false (plain HTTP on 127.0.0.1), a throwaway SECRET_KEY and
FIELD_ENCRYPTION_KEY.
"""

from yunjian.settings import *  # noqa: F403

ROOT_URLCONF = "bench.scale.urls"
