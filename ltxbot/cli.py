"""`ltx-bot`: the command line. Builds the one Settings object and passes it on.

ltx-bot run                      start the Discord bot
ltx-bot render MODE ...          one job through the same engine, no Discord
ltx-bot render --workflow FILE   any API-format workflow, `--set name=value`
ltx-bot setup                    clone the pinned ComfyUI and install its needs
ltx-bot doctor [--quick]         what is ready and what is not, with fixes
ltx-bot models download|list     model files per mode (Hugging Face)
ltx-bot settings                 the settings reference as a Markdown table
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from engine.errors import LtxError
from ltxbot._hardening import make_non_dumpable
from ltxbot.settings import Settings

log = logging.getLogger("ltxbot")
EXIT_HUNG = 3  # the engine hung in a node: restart the process


def _add_render(sub: argparse._SubParsersAction) -> None:
    from ltxbot.render import add_arguments

    parser = sub.add_parser(
        "render",
        help="run one job locally, without Discord, and write the video",
        description="Run one job through the bot's engine and write the video to --out.",
    )
    add_arguments(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ltx-bot", description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("run", help="start the Discord bot")
    work = sub.add_parser("worker", help="run the bot's jobs on this GPU, via Redis")
    work.add_argument("--gpu", help="the card to use (sets CUDA_VISIBLE_DEVICES)")
    _add_render(sub)
    setup = sub.add_parser("setup", help="clone the pinned ComfyUI and install its requirements")
    setup.add_argument("--force", action="store_true", help="check out the pin again")
    setup.add_argument(
        "--source",
        type=Path,
        help="unpack this archive or folder of the pinned tree instead of cloning",
    )
    setup.add_argument(
        "--no-requirements",
        dest="install",
        action="store_false",
        help="leave ComfyUI's requirements.txt uninstalled (the test setup brings its own)",
    )
    doctor = sub.add_parser("doctor", help="check what is ready and say how to fix the rest")
    doctor.add_argument(
        "--quick", action="store_true", help="skip booting ComfyUI (for health checks)"
    )
    models = sub.add_parser("models", help="model files per mode")
    models_sub = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    download = models_sub.add_parser("download", help="download what the modes need")
    download.add_argument("--mode", action="append", help="only this mode (repeatable)")
    listing = models_sub.add_parser("list", help="what each mode needs and what is here")
    listing.add_argument("--mode", action="append", help="only this mode (repeatable)")
    sub.add_parser("settings", help="print the settings reference (Markdown)")
    return parser


def _configure_logging(settings: Settings, verbose: bool) -> None:
    level = logging.DEBUG if verbose else getattr(logging, settings.log_level.upper(), logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from ltxbot.redact import install

    install()  # tokens and signed links never reach a log line


def _run(settings: Settings) -> int:
    from engine.errors import EngineHung
    from ltxbot._stop import Stopped, stop_on_signal
    from ltxbot.app import App
    from ltxbot.startup import check_discord, check_token, find, startup_error

    async def main(token: str) -> None:
        # SIGTERM (docker stop, systemd) and Ctrl-C stop the bot alike: the step
        # running is cancelled and everything is closed in order (_stop.py).
        async with stop_on_signal() as stopper:
            await stopper.run(check_discord(settings, token))  # seconds, before ComfyUI
            app = App(settings)
            try:
                await stopper.run(app.serve())
            finally:
                await app.close()

    try:
        asyncio.run(main(check_token(settings.discord_token)))
    except (Stopped, KeyboardInterrupt, asyncio.CancelledError):
        log.info("stopped")
    except BaseException as exc:
        hung = find(exc, EngineHung)
        if hung is not None:
            # ComfyUI's thread is stuck in a node and would keep the process
            # alive forever: exit at once, for the supervisor to restart us.
            log.error("stopping: %s; exit code %d for a restart", hung, EXIT_HUNG)
            logging.shutdown()
            os._exit(EXIT_HUNG)
        err = startup_error(exc)
        if err is None:
            raise
        log.error("cannot start: %s", err)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    _configure_logging(settings, args.verbose)
    if args.command in ("run", "render"):  # both hold the token and feed media to a child
        make_non_dumpable()
    try:
        if args.command == "run":
            return _run(settings)
        if args.command == "worker":
            from ltxbot.worker_cmd import worker

            return worker(settings, args.gpu)
        if args.command == "render":
            from ltxbot.render import render

            return render(settings, args)
        if args.command == "setup":
            from ltxbot.setup import setup

            return setup(settings, force=args.force, source=args.source, install=args.install)
        if args.command == "doctor":
            from ltxbot.doctor import doctor

            return doctor(settings, quick=args.quick)
        if args.command == "models":
            from ltxbot.models_cmd import models

            return models(settings, args.models_command, args.mode)
        if args.command == "settings":
            from ltxbot.settings_doc import settings_table

            print(settings_table())
            return 0
    except LtxError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
