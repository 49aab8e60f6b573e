"""`ltx-bot doctor`'s scale-out rows against a real Redis server."""

from __future__ import annotations

import redis
from pydantic import SecretStr

from engine.modes import MODE_NAMES
from engine.remote.wire import Advert, advert_key
from ltxbot._doctor_checks import Status
from ltxbot._doctor_redis import check_redis
from tests.remote.conftest import PASSWORD


def _advertise(url: str, *adverts: Advert) -> None:
    client = redis.Redis.from_url(url)
    try:
        for a in adverts:
            client.set(advert_key(a.worker_id), a.dumps(), ex=30)
    finally:
        client.close()


def test_unset_is_skipped_not_failed():
    (row,) = check_redis(None)
    assert (row.area, row.status) == ("Redis", Status.SKIP)


def test_a_wrong_password_fails_without_showing_the_password(redis_server):
    wrong = redis_server.url.replace(PASSWORD, "not-the-password")
    (row,) = check_redis(SecretStr(wrong))
    assert row.status is Status.FAIL
    assert "not-the-password" not in row.detail and f"127.0.0.1:{redis_server.port}" in row.detail
    assert "LTXBOT_REDIS_URL" in row.fix


def test_workers_are_listed_and_missing_modes_named(redis_server):
    url = SecretStr(redis_server.url)
    redis_row, workers = check_redis(url)
    assert redis_row.status is Status.OK and PASSWORD not in redis_row.detail
    assert workers.status is Status.WARN and "ltx-bot worker" in workers.fix

    _advertise(redis_server.url, Advert("gpu0", ("t2v", "i2v"), device="cuda:0", running="j-a1"))
    _, workers = check_redis(url)
    assert workers.status is Status.WARN
    assert "gpu0 (cuda:0, busy: t2v,i2v)" in workers.detail
    assert "no worker offers a2v, lipsync, keyframe, style" in workers.detail

    _advertise(redis_server.url, Advert("gpu1", tuple(MODE_NAMES), device="cuda:1"))
    _, workers = check_redis(url)
    assert workers.status is Status.OK and "gpu1 (cuda:1, idle:" in workers.detail

    # gpu1 begins to stop: it is listed as leaving and offers nothing any more.
    leaving = Advert("gpu1", tuple(MODE_NAMES), device="cuda:1", extra={"leaving": True})
    _advertise(redis_server.url, leaving)
    _, workers = check_redis(url)
    assert workers.status is Status.WARN and "gpu1 (cuda:1, leaving:" in workers.detail
    assert "no worker offers a2v, lipsync, keyframe, style" in workers.detail
