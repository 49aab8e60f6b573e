"""One table from error class to user message, and one handler that uses it.

Engine errors carry facts (engine/errors/); this module turns them into what a
Discord user reads: what went wrong and what to change. Every command's error
goes through `LtxTree.on_error`; buttons and reactions call `send_error` /
`user_message` directly. Anything not in the table gets a generic message and a
logged traceback. Failed jobs are rendered from their stored `error_code` and
`error_detail` by `failure_text`, so old jobs read the same after a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import discord
from discord import app_commands

from engine import errors as E
from engine.jobs import TooManyTakes
from engine.moderation import Refusal, RefusalReason, RuleInvalid

log = logging.getLogger(__name__)

GENERIC = "Something went wrong on our side. It has been logged; please try again later."


# --- errors that only the Discord frontend raises -------------------------------------


@dataclass(eq=False)
class NotGuildAdmin(E.LtxError):
    """A privileged command from someone without Manage Server (re-checked at run time)."""

    user_id: int = 0

    code: ClassVar[str] = "not_guild_admin"

    def describe(self) -> str:
        return f"user {self.user_id} lacks Manage Server"


@dataclass(eq=False)
class NotBotOwner(E.LtxError):
    """A global switch from someone who is not in `settings.owner_ids`."""

    user_id: int = 0

    code: ClassVar[str] = "not_bot_owner"

    def describe(self) -> str:
        return f"user {self.user_id} is not a bot owner"


@dataclass(eq=False)
class GuildOnly(E.LtxError):
    """Jobs belong to a server (its quotas, its queue settings); DMs are refused."""

    code: ClassVar[str] = "guild_only"


@dataclass(eq=False)
class BotCannotPost(E.LtxError):
    """The bot lacks a permission it needs to post the card and the result in
    this channel: refused before anything is acknowledged or computed."""

    missing: tuple[str, ...] = ()

    code: ClassVar[str] = "bot_cannot_post"

    def describe(self) -> str:
        return "the bot cannot post here (missing: " + ", ".join(self.missing) + ")"


@dataclass(eq=False)
class SlowDown(E.LtxError):
    """A member asked for a costly answer (a re-encode by `/ltx show`) more often
    than the bot grants one member."""

    what: str = ""
    retry_after_s: float = 0.0

    code: ClassVar[str] = "slow_down"

    def describe(self) -> str:
        return f"{self.what} again too soon; wait {self.retry_after_s:.0f} s"


# --- the table ------------------------------------------------------------------------


@dataclass(frozen=True)
class Explain:
    """How one error class reads: `live` from the exception's fields, `title` and
    `advice` for a failure stored on a job (only its detail text survives)."""

    title: str
    advice: str
    live: Callable[[Any], str] | None = None

    def from_exception(self, exc: Any) -> str:
        text = self.live(exc) if self.live else f"{self.title}: {exc.describe()}"
        return f"{text}\n{self.advice}".strip() if self.advice else text


NOT_CHARGED = "This was not charged to your quota."

TABLE: dict[type[E.LtxError], Explain] = {
    E.ParamInvalid: Explain(
        "Invalid parameter",
        "",
        lambda e: f"**{e.param}** = `{e.value}` is not allowed. Allowed: {e.allowed}.",
    ),
    E.InputRejected: Explain(
        "Attachment refused",
        "",
        lambda e: (
            f"The attachment **{e.input_name}** was refused: {e.reason}. Accepted: {e.accepted}."
        ),
    ),
    E.WorkflowInvalid: Explain(
        "The server's workflow for this mode is broken",
        f"An admin should check the bot's logs (`ltx-bot doctor`). {NOT_CHARGED}",
        lambda e: f"The server's workflow for this mode is broken: {e.summary or 'invalid'}.",
    ),
    E.OutOfMemory: Explain(
        "The GPU ran out of memory",
        f"Try a smaller width/height, a shorter duration or the Fast preset. {NOT_CHARGED}",
        lambda e: f"The GPU ran out of memory in {e.node_type or 'a node'}.",
    ),
    E.JobTimeout: Explain(
        "The job took too long",
        f"Try a shorter duration, a lower resolution or the Fast preset. {NOT_CHARGED}",
        lambda e: f"The job took too long ({e.budget_s:.0f} s, attempt {e.attempts}).",
    ),
    E.EngineHung: Explain(
        "The engine stopped responding",
        f"The bot restarts its engine; try again in a few minutes. {NOT_CHARGED}",
        lambda e: "The job hung in the engine and was stopped.",
    ),
    E.LowDiskSpace: Explain(
        "The bot's disk is nearly full",
        f"New jobs wait until an admin frees space; try again later. {NOT_CHARGED}",
        lambda e: "The bot's disk is nearly full, so it takes no new jobs for now.",
    ),
    E.Cancelled: Explain("Cancelled", "", lambda e: "The job was cancelled."),
    E.ModelMissing: Explain(
        "Model files are missing on this server",
        f"An admin needs to run `ltx-bot models download`. {NOT_CHARGED}",
        lambda e: (
            f"Model files for **{e.mode or 'this mode'}** are missing on this server. "
            f"An admin needs to run `ltx-bot models download --mode {e.mode}`."
        ),
    ),
    E.ExecutionFailed: Explain(
        "Generation failed",
        f"Try again, or change the prompt or parameters. {NOT_CHARGED}",
        lambda e: f"Generation failed in {e.node_type or 'a node'}: {e.message}",
    ),
    E.EngineUnavailable: Explain(
        "The video engine is not running",
        "Try again later; the server's admins have been told in the logs.",
        lambda e: "The video engine is not running right now.",
    ),
    E.QuotaExceeded: Explain(
        "Daily quota used up",
        "",
        lambda e: (
            f"You have used your daily {quota_dimension(e.dimension)} "
            f"({e.used:g} of {e.limit:g}). It resets <t:{int(e.resets_at)}:R>."
        ),
    ),
    E.QueueFull: Explain(
        "The queue is full",
        "",
        lambda e: (
            f"You already have {e.cap} jobs waiting. Wait for one to finish, "
            "or remove one with `/ltx cancel`."
            if e.scope == "user"
            else f"This server already has {e.cap} jobs waiting, its share of the queue. "
            "Try again in a few minutes."
            if e.scope == "guild"
            else f"The queue is full ({e.cap} jobs). Try again in a few minutes."
        ),
    ),
    TooManyTakes: Explain(
        "Too many takes at once",
        "",
        lambda e: (
            f"You asked for {e.asked} takes, but your "
            + ("queue cap" if e.limit == "queue" else "daily quota")
            + f" leaves room for {e.room}. Nothing was queued: ask for {e.room} or fewer."
        ),
    ),
    E.ExtendTooLong: Explain(
        "The video would be too long",
        "Ask for fewer seconds, or start a new video.",
        lambda e: f"Extended videos may last {e.max_s:g} s here; this one has {e.room_s:g} s left.",
    ),
    E.QueuePaused: Explain(
        "The queue is paused",
        "",
        lambda e: (
            "The bot's owners have paused the queue everywhere. Try again later."
            if e.scope == "global"
            else "This server's admins have paused the queue. Try again later."
        ),
    ),
    E.UserBanned: Explain(
        "Banned",
        "",
        lambda e: (
            "You are banned from using the bot on this server"
            + (f": {e.reason}." if e.reason else ".")
        ),
    ),
    E.ChannelNotAllowed: Explain(
        "Not in this channel",
        "",
        lambda e: (
            "The bot is not enabled in this channel. Use "
            + ", ".join(f"<#{c}>" for c in e.allowed_channel_ids)
            + "."
        ),
    ),
    SlowDown: Explain(
        "Too many requests",
        "",
        lambda e: f"You can {e.what} again in {max(1, round(e.retry_after_s))} s.",
    ),
    E.JobNotFound: Explain(
        "No such job",
        "",
        lambda e: (
            f"There is no job `{e.job_id}` on this server. `/ltx queue` lists the current ones."
        ),
    ),
    E.NotJobOwner: Explain(
        "Not your job",
        "",
        lambda e: (
            f"Job `{e.job_id}` belongs to <@{e.owner_id}>; only they or a server admin can do that."
        ),
    ),
    E.JobInterrupted: Explain(
        "The job kept crashing the bot",
        f"It was stopped after several restarts. Try other parameters. {NOT_CHARGED}",
        lambda e: f"The job was interrupted by {e.attempts} restarts and was stopped.",
    ),
    E.SchemaTooNew: Explain(
        "The bot's database is newer than the bot",
        "An admin must upgrade ltx-bot.",
        lambda e: "The bot's database was written by a newer version; an admin must upgrade.",
    ),
    E.RunInterrupted: Explain("Stopped", "", lambda e: "The run was stopped."),
    E.BindingInvalid: Explain(
        "The server's workflow does not fit this mode",
        f"An admin should check the workflow's `ltx:` titles (`ltx-bot doctor`). {NOT_CHARGED}",
        lambda e: f"The server's workflow cannot take **{e.param or 'a parameter'}**: {e.reason}.",
    ),
    E.UnboundParam: Explain(
        "Parameter not supported",
        "",
        lambda e: (
            f"This server's workflow has no **{e.param}** parameter. "
            f"It takes: {', '.join(e.bound) or 'none'}."
        ),
    ),
    E.WorkflowMissing: Explain(
        "This mode is not set up on this server",
        f"An admin should check the workflows folder (`ltx-bot doctor`). {NOT_CHARGED}",
        lambda e: f"The **{e.mode or 'requested'}** mode is not set up on this server: {e.reason}.",
    ),
    E.OutputTooLarge: Explain(
        "The video does not fit this server's upload limit",
        "The full-quality file is kept; try a shorter duration or a lower resolution.",
        lambda e: (
            f"The video is still {e.size_bytes / 2**20:.1f} MB after "
            f"{e.rungs_tried} encodes; this server takes {e.limit_bytes / 2**20:.1f} MB."
        ),
    ),
    E.DownloadFailed: Explain(
        "A model download failed",
        "An admin should retry `ltx-bot models download`.",
        lambda e: f"The model file {e.name} could not be downloaded on this server.",
    ),
    NotGuildAdmin: Explain(
        "Not allowed",
        "",
        lambda e: "You need the **Manage Server** permission for this.",
    ),
    NotBotOwner: Explain(
        "Not allowed",
        "",
        lambda e: "Only the bot's owners can change global settings.",
    ),
    GuildOnly: Explain("Server only", "", lambda e: "Use this command in a server, not in DMs."),
    BotCannotPost: Explain(
        "The bot cannot post in this channel",
        "A server admin can grant the bot these permissions here, or use another channel.",
        lambda e: (
            "I cannot post videos in this channel: a server admin needs to give me "
            + ", ".join(n.replace("_", " ") for n in e.missing)
            + " here."
        ),
    ),
    # The refusal never echoes the rule: a member must not learn the list by probing.
    Refusal: Explain(
        "Prompt not allowed",
        "",
        lambda e: (
            f"**{e.mode}** is only allowed in age-restricted channels."
            if e.rule_id is None
            else "This prompt matches one of this server's rules, so it can't be queued."
            if e.reason is RefusalReason.BLOCKED
            else "A rule of this server allows this prompt only in age-restricted channels."
        ),
    ),
    RuleInvalid: Explain(
        "Rule not usable",
        "",
        lambda e: f"The rule `{e.pattern}` can't be used: {e.reason}.",
    ),
}


def quota_dimension(dimension: str) -> str:
    return {"jobs_per_day": "job quota", "gpu_seconds_per_day": "GPU-time quota"}.get(
        dimension, "quota"
    )


def explain_for(cls: type) -> Explain | None:
    """The entry of the closest class in the table (subclasses inherit)."""
    for klass in cls.__mro__:
        entry = TABLE.get(klass)
        if entry is not None:
            return entry
    return None


def user_message(exc: BaseException) -> str | None:
    """The message for `exc`, or None if it is not a known error."""
    entry = explain_for(type(exc))
    return entry.from_exception(exc) if entry is not None else None


def failure_text(code: str | None, detail: str | None) -> str:
    """A stored failure (job.error_code, job.error_detail) as the card shows it."""
    entry = next((v for k, v in TABLE.items() if k.code == code), None)
    if entry is None:
        return detail or "unknown error."
    head = f"{entry.title}: {detail}" if detail else entry.title
    return f"{head}\n{entry.advice}" if entry.advice else head


def unwrap(error: BaseException) -> BaseException:
    """discord.py wraps exceptions raised in callbacks; find the original."""
    while isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError):
        inner = error.__cause__ if isinstance(error, app_commands.TransformerError) else None
        inner = getattr(error, "original", inner)
        if inner is None:
            break
        error = inner
    return error


async def send_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the user what went wrong, ephemerally, however far the interaction got."""
    exc = unwrap(error)
    text = user_message(exc)
    if text is None:
        if isinstance(exc, app_commands.NoPrivateMessage):
            text = TABLE[GuildOnly].from_exception(GuildOnly())
        elif isinstance(exc, app_commands.MissingPermissions):
            text = TABLE[NotGuildAdmin].from_exception(NotGuildAdmin())
        else:
            log.error("unhandled error in interaction %s", interaction.id, exc_info=exc)
            text = GENERIC
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not report an error to interaction %s", interaction.id, exc_info=True)


class LtxTree(app_commands.CommandTree):
    """The command tree with the one error handler every command shares."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await send_error(interaction, error)
