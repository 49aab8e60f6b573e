"""The doctor's scale-out rows: can this machine reach the bot's Redis, and
which workers advertise there (docs/scale-out.md).

Synchronous and quick (a ping and one scan, two-second timeouts), so they run
in `--quick` too: a bot whose Redis is unreachable cannot run a single job.
"""

from __future__ import annotations

from pydantic import SecretStr

from engine.modes import MODE_NAMES
from engine.remote.wire import Advert, advert_key
from ltxbot._doctor_checks import Check, Status

TIMEOUT_S = 2.0


def _safe(url: str) -> str:
    """The URL without its password, for the screen."""
    scheme, _, rest = url.partition("://")
    _, at, host = rest.rpartition("@")
    return f"{scheme}://{host}" if at else url


def check_redis(url: SecretStr | None) -> list[Check]:
    if url is None:
        return [Check("Redis", Status.SKIP, "not set: this bot runs jobs on its own GPU")]
    import redis
    from redis.exceptions import RedisError

    raw = url.get_secret_value()
    client = redis.Redis.from_url(raw, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S)
    try:
        client.ping()
        keys = list(client.scan_iter(match=advert_key("*")))
        values = client.mget(keys) if keys else []
    except (RedisError, OSError) as err:
        fix = "start Redis there, or correct LTXBOT_REDIS_URL (host, port, password)"
        return [Check("Redis", Status.FAIL, f"{_safe(raw)}: {err}", fix)]
    finally:
        client.close()
    adverts = sorted((Advert.loads(v) for v in values if v is not None), key=lambda a: a.worker_id)
    checks = [Check("Redis", Status.OK, f"{_safe(raw)} answers")]
    return [*checks, _workers(adverts)]


def _workers(adverts: list[Advert]) -> Check:
    if not adverts:
        fix = "start `ltx-bot worker` on a GPU box with the same LTXBOT_REDIS_URL"
        return Check("workers", Status.WARN, "none advertising: jobs wait in the queue", fix)
    # A leaving worker is stopping: it runs nothing new, so it offers nothing.
    offered = {m for a in adverts if not a.leaving for m in a.modes}
    missing = [m for m in MODE_NAMES if m not in offered]
    listed = "; ".join(
        f"{a.worker_id} ({a.device}, {_state(a)}: {','.join(a.modes)})" for a in adverts
    )
    if missing:
        names = ", ".join(missing)
        fix = f"give a worker the models of {names} (ltx-bot models download)"
        return Check("workers", Status.WARN, f"{listed}; no worker offers {names}", fix)
    return Check("workers", Status.OK, listed)


def _state(advert: Advert) -> str:
    if advert.leaving:
        return "leaving"
    return "busy" if advert.running else "idle"
