"""Who may see which job: a job is visible to a member who can read its channel.

A member always sees their own jobs. Other members' jobs are visible only when
the job's channel (or thread) is in the bot's cache and the member may view it
and read its history. `/ltx queue` lists only visible jobs; `/ltx show` treats
an invisible job as unknown, and answers publicly only for the member's own job
in the job's own channel (never re-posting it where its channel's allow-list,
age restriction or audience would not have it).
"""

from __future__ import annotations

import os

import discord
import yarl

from engine.jobs import Job


def can_see(interaction: discord.Interaction, job: Job) -> bool:
    if job.user_id == interaction.user.id:
        return True
    guild = interaction.guild
    member = interaction.user
    if guild is None or job.guild_id != guild.id or not isinstance(member, discord.Member):
        return False
    channel = guild.get_channel_or_thread(job.channel_id)
    if channel is None:
        return False
    perms = channel.permissions_for(member)
    return perms.view_channel and perms.read_message_history


def show_publicly(interaction: discord.Interaction, job: Job) -> bool:
    """Re-post in the channel only the member's own job, in its own channel."""
    return job.user_id == interaction.user.id and interaction.channel_id == job.channel_id


def result_kept(job: Job) -> bool:
    """Whether the full-quality result is still on disk (retention deletes it)."""
    return bool(job.result_path and os.path.isfile(job.result_path))  # a stat: cheap


NEEDED = ("view_channel", "embed_links", "attach_files", "read_message_history")


def missing_post_permissions(interaction: discord.Interaction) -> tuple[str, ...]:
    """What the bot lacks to post a card and a video here (from the
    interaction's `app_permissions`: the bot's permissions in this channel)."""
    perms = interaction.app_permissions
    in_thread = isinstance(interaction.channel, discord.Thread)
    needed = (*NEEDED, "send_messages_in_threads" if in_thread else "send_messages")
    return tuple(name for name in needed if not getattr(perms, name))


CDN_HOSTS = frozenset({"cdn.discordapp.com", "media.discordapp.net"})


def is_cdn_url(url: str, api_base: str) -> bool:
    """Attachments are fetched only from Discord's CDN over https, or from the
    configured API base's own origin (a proxy, the test fake)."""
    target, api = yarl.URL(url), yarl.URL(api_base)
    if target.scheme == "https" and target.host in CDN_HOSTS:
        return True
    return target.origin() == api.origin()
