"""docs/operator-guide.md against the code it describes: the permission integer,
the intents, the model sizes and download times, and every command it shows."""

from __future__ import annotations

import re
import shlex

import discord
import pytest

from engine.models import load_manifest, required_files
from engine.modes import MODE_NAMES
from ltxbot.cli import build_parser
from ltxbot.settings import REPO_ROOT

GUIDE = (REPO_ROOT / "docs" / "operator-guide.md").read_text()
WORKFLOWS = REPO_ROOT / "workflows"

PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    add_reactions=True,
    use_application_commands=True,
)


def test_the_permission_integer_is_the_sum_of_the_listed_bits():
    assert f"permissions={PERMISSIONS.value}" in GUIDE
    assert f"**{PERMISSIONS.value}**" in GUIDE
    rows = re.findall(r"^\| ([A-Z][A-Za-z ]+) \| 1 << (\d+) \| ([\d,]+) \|$", GUIDE, flags=re.M)
    assert len(rows) == 8
    assert sum(1 << int(bit) for _, bit, _ in rows) == PERMISSIONS.value
    for name, bit, value in rows:
        flag = name.lower().replace(" ", "_")
        assert (
            getattr(discord.Permissions, flag).flag == 1 << int(bit) == int(value.replace(",", ""))
        )


def test_the_intents_named_are_the_ones_the_client_sets():
    source = (REPO_ROOT / "bot" / "client.py").read_text()
    assert "discord.Intents.none()" in source
    enabled = set(re.findall(r"intents\.(\w+) = True", source))
    assert enabled == {"guilds", "guild_reactions"}
    for intent in enabled:
        assert f"`{intent}`" in GUIDE
    assert "scopes `bot` and `applications.commands`" in GUIDE


def _mode_bytes(modes) -> int:
    files = {f.name: f.size_bytes for m in modes for f in required_files(m, WORKFLOWS)}
    return sum(files.values())


def test_sizes_and_download_times_match_the_manifest():
    total = _mode_bytes(MODE_NAMES)
    assert total == sum(m["size_bytes"] for m in load_manifest(WORKFLOWS)["models"].values())
    assert f"**{total / 1e9:.1f} GB**" in GUIDE
    for label, modes in [
        ("t2v, a2v, i2v, lipsync (they share every file)", ("t2v", "a2v", "i2v", "lipsync")),
        ("keyframe", ("keyframe",)),
        ("style", ("style",)),
    ]:
        assert f"| {label} | {_mode_bytes(modes) / 1e9:.1f} GB |" in GUIDE
    seconds = total * 8 / 100e6
    hours, minutes = divmod(round(seconds / 60), 60)
    assert f"| 100 Mbit/s | about {hours} h {minutes} min |" in GUIDE
    assert f"at 100 Mbit/s that is {seconds:,.0f} s" in GUIDE
    assert f"| 1 Gbit/s | about {round(total * 8 / 1e9 / 60)} min |" in GUIDE


def _commands() -> list[list[str]]:
    """Every `ltx-bot ...` and `docker compose run --rm bot ...` line in the code blocks."""
    found = []
    for block in re.findall(r"```bash\n(.*?)```", GUIDE, flags=re.S):
        text = block.replace("\\\n", " ")
        for line in text.splitlines():
            line = line.split("  #", 1)[0].strip()
            if line.startswith("ltx-bot "):
                found.append(shlex.split(line)[1:])
            elif line.startswith("docker compose run --rm"):
                words = shlex.split(line)
                at = words.index("bot")
                found.append(words[at + 1 :])
    return found


def test_every_command_shown_parses_with_the_real_cli():
    commands = _commands()
    assert {c[0] for c in commands} >= {"setup", "doctor", "models", "run", "render"}
    parser = build_parser()
    for argv in commands:
        try:
            parser.parse_args(argv)
        except SystemExit:  # argparse's way of refusing
            pytest.fail(f"the guide shows a command the CLI refuses: ltx-bot {shlex.join(argv)}")
