"""Composition root: settings -> store -> scheduler -> runtime -> engine -> bot.

Every dependency is built here once and passed down. `App` is used by
`ltx-bot run` and by the end-to-end tests, which run it against a fake Discord.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from engine.comfy.locate import find_comfy_dir
from engine.comfy.runtime import Runtime
from engine.comfy.types import BootInfo, RuntimeConfig
from engine.eta import LearnedPreparer, LearningEvents, RunTimes
from engine.events import JobChangeStream, JobEvents, NoEvents
from engine.front import Engine
from engine.jobs import JobStore, QueueCaps, Recovery
from engine.media import MediaLimits
from engine.modes import Limits
from engine.prepare import ModePreparer, check_live_workflows
from engine.scheduler import make_scheduler
from engine.timeouts import TimeoutPolicy
from ltxbot._retention import partial_dirs, remove_partials, retention_forever
from ltxbot.settings import Settings

if TYPE_CHECKING:  # discord is imported only when the bot runs
    from bot.client import LtxBot
    from bot.config import BotConfig

log = logging.getLogger(__name__)

HUNG_FLUSH_S = 10.0  # for the bot to post a hung job's failure before the process exits
MiB = 1024 * 1024


def model_dirs(settings: Settings) -> tuple[tuple[str, Path], ...]:
    """Folders holding the model files present in the Hugging Face cache."""
    try:
        from engine.models import comfy_model_dirs
    except ImportError:  # pragma: no cover - models registry not installed
        return ()
    return tuple(comfy_model_dirs(settings.workflows_dir))


def runtime_config(settings: Settings) -> RuntimeConfig:
    return RuntimeConfig(
        comfy_dir=find_comfy_dir(settings.comfyui_dir),
        input_dir=settings.inputs_dir,
        output_dir=settings.comfy_io_dir / "output",
        temp_dir=settings.comfy_io_dir / "temp",
        device=settings.device,
        extra_args=tuple(settings.comfy_args),
        model_dirs=model_dirs(settings),
        previews=settings.previews,
        cuda_graphs=settings.cuda_graphs,
    )


def bot_config(settings: Settings) -> BotConfig:
    """The part of the settings the Discord frontend reads, frozen."""
    from bot.config import BotConfig

    return BotConfig(
        data_dir=settings.data_dir,
        inputs_dir=settings.inputs_dir,
        limits=Limits.of(settings),
        media_limits=MediaLimits(max_bytes=int(settings.max_attachment_mb * MiB)),
        owner_ids=frozenset(settings.owner_ids),
        dev_guild_id=settings.dev_guild_id,
        discord_api_base=settings.discord_api_base,
        discord_gateway_url=settings.discord_gateway_url,
        download_timeout_s=settings.download_timeout_s,
        retention_days=settings.retention_days,
    )


def timeout_policy(settings: Settings) -> TimeoutPolicy:
    return TimeoutPolicy(
        min_s=settings.timeout_min_s,
        max_s=settings.timeout_max_s,
        cold_load_s=settings.cold_load_s,
        interrupt_grace_s=settings.interrupt_grace_s,
    )


async def start_engine(
    settings: Settings,
    store: JobStore,
    *,
    runtime: Runtime | None = None,
    events: JobEvents | None = None,
) -> tuple[Runtime, Engine]:
    """Boot ComfyUI, check the workflows against it, and build the engine.

    `runtime`: an already started one to use (ComfyUI boots once per process,
    so tests that start several bots in one process share it). `events`: where
    the engine reports job changes (the bot's stream; none when headless).
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.inputs_dir.mkdir(parents=True, exist_ok=True)
    owned = runtime is None
    runtime = runtime or Runtime(runtime_config(settings))
    try:
        if owned:
            await runtime.start()
        await check_live_workflows(runtime, settings.workflows_dir)
    except BaseException:
        if owned:
            await runtime.close()
        raise
    # ETAs and budgets learned from the jobs table, kept current in memory.
    times = await RunTimes.load(store)
    engine = Engine.build(
        store=store,
        scheduler=make_scheduler("round_robin"),
        runtime=runtime,
        preparer=LearnedPreparer(ModePreparer(settings.workflows_dir, settings.inputs_dir), times),
        policy=timeout_policy(settings),
        outputs_dir=settings.outputs_dir,
        inputs_dir=settings.inputs_dir,
        limits=Limits.of(settings),
        events=LearningEvents(times, events or NoEvents()),
        caps=queue_caps(settings),
        warmup_modes=warmup_modes(settings, runtime, settings.workflows_dir),
    )
    return runtime, engine


def warmup_modes(settings: Settings, runtime: Runtime, workflows_dir: Path) -> tuple[str, ...]:
    """The modes the warm-up runs, in order; () when it is off (`auto`: on
    only when ComfyUI runs on a GPU, where a first job's loading costs
    seconds; on a CPU box it would only delay the first job). LTXBOT_WARMUP_MODES
    when given (a name that is no mode stops the start), else t2v, and keyframe
    after it when the card holds both checkpoint families (`holds_both`) and
    ComfyUI's cache keeps both (`cache_keeps_both`)."""
    from engine.modes import MODE_NAMES
    from engine.warmup import (
        BOTH_PROMPTS_NODES,
        OTHER_FAMILY_MODE,
        cache_keeps_both,
        holds_both,
        model_bytes,
    )
    from ltxbot.startup import StartupError

    vram = runtime.info.vram_bytes
    on = settings.warmup == "on" or (settings.warmup == "auto" and vram is not None)
    if not on:
        return ()
    if settings.warmup_modes:
        unknown = [m for m in settings.warmup_modes if m not in MODE_NAMES]
        if unknown:
            raise StartupError(
                f"LTXBOT_WARMUP_MODES names no such mode: {', '.join(unknown)} "
                f"(the modes are {', '.join(MODE_NAMES)})"
            )
        return tuple(dict.fromkeys(settings.warmup_modes))  # each once, in order
    both = ("t2v", OTHER_FAMILY_MODE)
    if not holds_both(model_bytes(workflows_dir, both), vram):
        return ("t2v",)
    if not cache_keeps_both(settings.comfy_args):
        # Warming keyframe last would leave t2v, the default mode, cold.
        log.info("warm-up: t2v only (keyframe too with --cache-lru %d)", BOTH_PROMPTS_NODES)
        return ("t2v",)
    return both


def queue_caps(settings: Settings) -> QueueCaps:
    """The one source of the queue caps: the engine's admission uses them, and
    the bot asks the engine (precheck) rather than reading settings."""
    return QueueCaps(
        max_queued_per_user=settings.max_queued_per_user,
        max_queue_total=settings.max_queue_total,
        max_queued_per_guild=settings.max_queued_per_guild,
        min_free_mb=settings.min_free_mb,
    )


async def remote_engine(settings: Settings, store: JobStore, *, events: JobEvents | None) -> Engine:
    """The engine of a bot whose jobs run on GPU workers (`ltx-bot worker`)
    through Redis: no ComfyUI in this process; the workers check the workflows
    against theirs and advertise the modes that fit. ETAs are learned here as
    in-process; each worker's budget stays on the constants (it computes its
    own, and a tighter one from the bot would kill runs the worker allows)."""
    from engine.remote.dispatcher import Dispatcher

    assert settings.redis_url is not None
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.inputs_dir.mkdir(parents=True, exist_ok=True)
    scheduler = make_scheduler("round_robin")
    times = await RunTimes.load(store)
    learning = LearningEvents(times, events or NoEvents())
    dispatcher = Dispatcher(
        redis_url=settings.redis_url.get_secret_value(),
        store=store,
        scheduler=scheduler,
        preparer=LearnedPreparer(ModePreparer(settings.workflows_dir, settings.inputs_dir), times),
        inputs_dir=settings.inputs_dir,
        outputs_dir=settings.outputs_dir,
        policy=timeout_policy(settings),
        events=learning,
    )
    return Engine(
        store=store,
        scheduler=scheduler,
        worker=dispatcher,
        outputs_dir=settings.outputs_dir,
        inputs_dir=settings.inputs_dir,
        caps=queue_caps(settings),
        limits=Limits.of(settings),
        events=learning,
    )


def freeze_startup_heap() -> None:
    """Take everything alive after startup out of the garbage collector's scans.

    Booted ComfyUI, torch and discord.py leave about half a million objects
    that live as long as the process. Each full collection walks all of them
    (about 250 ms on 2 cores), stalling the event loop; one that lands in a
    burst of commands delays every acknowledgement in flight by that much.
    Frozen, they are never scanned again; what jobs and commands allocate later
    is collected as usual."""
    gc.collect()
    gc.freeze()


class App:
    """The running bot: one store, one runtime thread, one engine task, one client."""

    def __init__(self, settings: Settings, *, sync_commands: bool = True) -> None:
        self.settings = settings
        self.sync_commands = sync_commands
        self.store: JobStore | None = None
        self.runtime: Runtime | None = None
        self.engine: Engine | None = None
        self.bot: LtxBot | None = None
        self.boot_info: BootInfo | None = None
        self.recovery: Recovery | None = None

    async def start(self) -> None:
        """Open, boot and check everything; refuse to start on a broken setup."""
        settings = self.settings
        self.store = await JobStore.open(settings.db_path)
        remove_partials(partial_dirs(settings))  # left by a crash or a full disk
        changes = JobChangeStream()  # the engine writes, the bot reads
        if settings.redis_url is not None:  # jobs run on workers (docs/scale-out.md)
            self.engine = await remote_engine(settings, self.store, events=changes)
        else:
            self.runtime, self.engine = await start_engine(settings, self.store, events=changes)
            self.boot_info = self.runtime.info
        self.recovery = await self.engine.recover()
        from bot.client import LtxBot  # discord is imported only when the bot runs

        self.bot = LtxBot(
            bot_config(settings), self.engine, sync_commands=self.sync_commands, changes=changes
        )
        freeze_startup_heap()

    def _started(self) -> tuple[JobStore, Engine, LtxBot]:
        """The parts `start()` made; an error if it has not run."""
        if self.store is None or self.engine is None or self.bot is None:
            raise RuntimeError("App.start() has not run")
        return self.store, self.engine, self.bot

    async def serve(self) -> None:
        """Run the engine task and the Discord client until either stops."""
        if self.bot is None or self.engine is None:
            await self.start()
        store, engine, bot = self._started()
        from ltxbot.startup import check_token

        token = check_token(self.settings.discord_token)  # or StartupError
        from ltxbot.heartbeat import beat_forever, heartbeat_path

        async with asyncio.TaskGroup() as group:
            engine_task = group.create_task(self._run_engine(engine, bot), name="engine")
            # For `ltx-bot doctor --quick` (the container health check): a stale
            # beat from a live process means the event loop is stuck.
            group.create_task(retention_forever(self.settings, store), name="retention")
            beat = group.create_task(
                beat_forever(heartbeat_path(self.settings.data_dir), status=self._beat_status)
            )
            try:
                await self._start_bot(bot, token)
            finally:
                engine_task.cancel()
                beat.cancel()

    def _beat_status(self) -> dict[str, float | None]:
        """What the health check judges besides the beat itself."""
        return {
            "run_deadline": self.engine.worker.run_deadline if self.engine else None,
            "gateway_down_since": self.bot.gateway_down_since if self.bot else None,
        }

    @staticmethod
    async def _run_engine(engine: Engine, bot: LtxBot) -> None:
        """The engine task. A hung engine ends the bot, once the failed job's
        card has had a few seconds to say so."""
        from engine.errors import EngineHung

        try:
            await engine.worker.run_forever()
        except EngineHung:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(HUNG_FLUSH_S):
                    await bot.tasks.wait_idle()
            raise

    @staticmethod
    async def _start_bot(bot: LtxBot, token: str) -> None:
        """discord.py's client; a failure before the first READY is a startup
        failure (wrong token, gateway down), said in one line by the CLI."""
        import discord

        from ltxbot.startup import StartupError

        try:
            await bot.start(token)
        except discord.LoginFailure:
            raise StartupError("Discord refused the token (401 Unauthorized)") from None
        except discord.PrivilegedIntentsRequired:
            raise StartupError("Discord refused the intents: enable them in the portal") from None
        except Exception as err:
            if bot.is_ready():
                raise
            raise StartupError(
                f"lost the Discord gateway before the bot was ready: {type(err).__name__}: {err}"
            ) from None

    async def close(self) -> None:
        if self.bot is not None and not self.bot.is_closed():
            await self.bot.close()
        if self.runtime is not None:
            await self.runtime.close()
        if self.store is not None:
            await self.store.close()

    async def __aenter__(self) -> App:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            await self.close()
