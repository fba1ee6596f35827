"""Abuse protection for the public forms (access application, password recovery): the login throttle's counters
(services/identity/throttle.py) under a namespace of their own, one "login" per form and school — after
LOCK_PAIR_AFTER submissions from one address in the window that address waits; the counters never touch logins."""

from __future__ import annotations

from services.errors import RuleError
from services.identity.throttle import LoginThrottle
from services.runtime import Runtime


class TooManySubmissions(RuleError):
    problem_type = "/problems/too-many-submissions"
    default_status = 429


def _throttle(runtime: Runtime) -> LoginThrottle:
    return LoginThrottle(runtime.redis, f"{runtime.settings.redis.namespace}:public-forms")


async def count_submission(runtime: Runtime, form: str, address: str) -> None:
    """Refuse when this address sent this form too often lately; otherwise count this submission."""
    throttle = _throttle(runtime)
    wait = await throttle.locked_for(form, address)
    if wait:
        minutes = max(1, (wait + 59) // 60)
        raise TooManySubmissions(f"Слишком много обращений с вашего адреса. Повторите через {minutes} мин.")
    await throttle.failed(form, address)
