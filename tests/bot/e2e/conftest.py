"""End-to-end harness: the real discord.py client against the fake Discord,
jobs on the real engine (the pinned ComfyUI on the CPU, model-free test workflows).

ComfyUI can boot only once per process, so one `Runtime` is booted per test
session and shared; everything else (fake Discord, job store, engine, bot) is
built fresh for each test, composed the way `ltxbot.app.App` composes it.
Inputs are content-addressed, so the session's data dir (ComfyUI's input
folder) is shared safely; each test has its own SQLite file and outputs dir.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.cards.throttle import ThrottlePolicy
from bot.client import LtxBot
from engine.comfy.runtime import Runtime
from engine.events import JobChangeStream
from engine.front import Engine
from engine.jobs import JobStore
from engine.prepare import check_live_workflows
from ltxbot import app as ltx_app
from ltxbot.app import runtime_config
from ltxbot.settings import REPO_ROOT, Settings
from tests.fakes.discord import FakeChannel, FakeDiscord, FakeGuild, FakeRole, FakeUser

WORKFLOWS = REPO_ROOT / "tests" / "workflows"
# Small enough that every test job runs in well under a second on the CPU.
SMALL = {"width": 256, "height": 256, "duration_s": 0.5, "fps": 24}
_slow_jobs = itertools.count()


def slow() -> dict[str, object]:
    """Options of a job that runs a second or more on the CPU, to act while it
    runs. Each call differs in size or length: ComfyUI caches node outputs
    for the whole process, and a repeated graph would finish at once."""
    n = next(_slow_jobs)
    width = 512 - 64 * (n % 3)
    duration = 5.0 - 0.4 * ((n // 3) % 4)
    return {"width": width, "height": 512, "duration_s": duration, "fps": 48}


EDIT_INTERVAL_S = 0.25  # the throttle's spacing here; production uses 3 s


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "workflows_dir": WORKFLOWS,
        "device": "cpu",
        "max_width": 512,
        "max_height": 512,
        "max_duration_s": 5.0,
        "max_queued_per_user": 5,
        "timeout_min_s": 60.0,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def e2e_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e-data")


@pytest.fixture(scope="session")
def runtime(e2e_dir: Path) -> Iterator[Runtime]:
    """The session's one ComfyUI (booted on its own thread; asyncio-loop agnostic)."""
    settings = make_settings(e2e_dir)
    settings.inputs_dir.mkdir(parents=True, exist_ok=True)
    rt = Runtime(runtime_config(settings))

    async def boot() -> None:
        await rt.start()
        await check_live_workflows(rt, settings.workflows_dir)

    asyncio.run(boot())
    yield rt
    asyncio.run(rt.close())


@dataclass
class World:
    """Everything a test drives or inspects."""

    fake: FakeDiscord
    guild: FakeGuild
    channel: FakeChannel
    other_channel: FakeChannel
    alice: FakeUser
    bob: FakeUser
    mod: FakeUser
    mods: FakeRole
    regulars: FakeRole
    settings: Settings
    store: JobStore
    engine: Engine
    bot: LtxBot
    changes: JobChangeStream

    async def drain(self) -> None:
        """Wait until the engine has nothing to run and the bot nothing to post."""
        async with asyncio.timeout(60):
            while len(self.engine.scheduler) or self.engine.worker.running_job_id:
                await self.engine.worker.wait_idle()
                await asyncio.sleep(0.05)
            await self.changes.join()
            await self.bot.tasks.wait_idle()


@contextlib.asynccontextmanager
async def running_world(
    runtime: Runtime,
    e2e_dir: Path,
    tmp_path: Path,
    *,
    start_engine: bool = True,
    fake: FakeDiscord | None = None,
    again: World | None = None,
    **settings_kw: object,
) -> AsyncIterator[World]:
    """A fake Discord with a guild and users, and a bot with its engine on them.
    `fake`: use this (started) fake instead of a new one, and leave it running.
    `again`: restart on that world's fake Discord and job store (a new life of
    the bot, in-process; the fake must still be running)."""
    # Other tests in this process may have pointed ComfyUI's folders elsewhere:
    # booting again is cheap and points them back at this session's data dir.
    await runtime.start()
    async with contextlib.AsyncExitStack() as stack:
        if again is None:
            if fake is None:
                fake = await stack.enter_async_context(FakeDiscord(interaction_window_s=3.0))
            guild = fake.add_guild("Studio", channels=("studio", "random"))
            alice, bob, mod = fake.add_user("alice"), fake.add_user("bob"), fake.add_user("mod")
            for user in (alice, bob, mod):
                fake.add_member(guild, user)
            mods = fake.add_role(guild, "mods", ["manage_guild"], members=[mod])
            regulars = fake.add_role(guild, "regulars", members=[bob])
            cast = (guild, guild.channels[0], guild.channels[1], alice, bob, mod, mods, regulars)
        else:
            fake = again.fake
            cast = (
                again.guild, again.channel, again.other_channel, again.alice, again.bob,
                again.mod, again.mods, again.regulars,
            )  # fmt: skip
        settings = make_settings(
            e2e_dir,
            discord_token=fake.token,
            discord_api_base=fake.api_base,
            discord_gateway_url=fake.gateway_url,
            **settings_kw,
        )
        store = await JobStore.open(tmp_path / "jobs.sqlite3")
        stack.push_async_callback(store.close)
        changes = JobChangeStream()
        _, engine = await ltx_app.start_engine(settings, store, runtime=runtime, events=changes)
        await engine.recover()
        bot = LtxBot(
            ltx_app.bot_config(settings),
            engine,
            changes=changes,
            throttle=ThrottlePolicy(min_interval_s=EDIT_INTERVAL_S),
            guild_ready_timeout=0.05,
        )
        world = World(fake, *cast, settings, store, engine, bot, changes)
        sessions = len(fake.sessions) + 1
        with fake.patch_discord_py():
            bot_task = asyncio.create_task(bot.start(fake.token), name="bot")
            engine_task = (
                asyncio.create_task(engine.worker.run_forever(), name="engine")
                if start_engine
                else None
            )
            try:
                ready = asyncio.create_task(bot.wait_until_ready())
                async with asyncio.timeout(20):
                    await asyncio.wait({ready, bot_task}, return_when=asyncio.FIRST_COMPLETED)
                if bot_task.done():
                    ready.cancel()
                    bot_task.result()  # raises what stopped the bot
                    raise RuntimeError("the bot stopped before it was ready")
                await fake.wait_for_ready(sessions=sessions)
                yield world
            finally:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(30):
                        await engine.worker.wait_idle()
                if engine_task is not None:
                    engine_task.cancel()
                    await asyncio.gather(engine_task, return_exceptions=True)
                await bot.close()
                await asyncio.gather(bot_task, return_exceptions=True)


@pytest.fixture
async def world(runtime: Runtime, e2e_dir: Path, tmp_path: Path) -> AsyncIterator[World]:
    async with running_world(runtime, e2e_dir, tmp_path) as w:
        yield w
