"""The codebase's shape, checked from its source with `ast`.

docs/architecture.md describes the layers; these tests keep the code reading the
same way: `bot/` never touches ComfyUI, `engine/` never touches discord, only
`engine/comfy/` (and the stand-in tools and the tests) import ComfyUI, the bot
reaches the engine only through `engine.api` (never the store, the worker or
the composition root), a package's private modules stay inside it, job status
is written only by the store in `engine/jobs/`, and no file grows past 400
lines. Each rule is also fed a small synthetic violation, so a checker that
silently stopped firing fails too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("bot", "engine", "ltxbot", "tools")
MAX_LINES = 400

# ComfyUI's top-level modules, as its checkout puts them on sys.path.
COMFY = {
    "comfy",
    "comfy_extras",
    "comfy_api",
    "comfy_execution",
    "nodes",
    "folder_paths",
    "execution",
    "latent_preview",
    "node_helpers",
}
# Where importing ComfyUI is the point: the engine's adapter, the stand-in
# model writers, and the tests that exercise them.
COMFY_ALLOWED = ("engine/comfy/", "tools/standins/", "tests/")

# Private imports across packages that are allowed anyway: none. The test also
# fails when an entry here goes stale.
PRIVATE_ALLOWED: set[tuple[str, str]] = set()

# Files over MAX_LINES, each with why it is not split yet; stale entries fail.
SIZE_ALLOWED: dict[str, str] = {}

# Files other workers are changing right now; remove once they land (issue 13).
IN_FLIGHT: set[str] = set()

_STATUS_SQL = re.compile(r"\bUPDATE\s+jobs\s+SET\b[^;]*?\bstatus\s*=", re.I | re.S)


def _sources(*tops: str) -> list[Path]:
    files: list[Path] = []
    for top in tops:
        files += [p for p in sorted((ROOT / top).rglob("*.py")) if "__pycache__" not in p.parts]
    return files


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _module_of(rel: str) -> str:
    """`bot/admin/cog.py` → `bot.admin.cog`; a package's `__init__` is the package."""
    parts = rel.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(tree: ast.AST, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """Every dotted name a module imports: `import a.b` gives `a.b`, and
    `from a import b` gives both `a` and `a.b` (b may be a module). Relative
    imports are resolved against `module`."""
    found: list[tuple[int, str]] = []
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package[: len(package) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{a.name}") for a in node.names if a.name != "*"]
    return found


# What stands behind the engine's front door: the bot holds an `EngineApi`
# (engine/api.py), never the store, the scheduler, the worker or the engine's
# implementation, so a remote engine can stand in for the in-process one.
_BEHIND_THE_DOOR = ("engine.jobs.store", "engine.front", "engine.worker", "engine.scheduler")


def _behind_the_door(name: str) -> bool:
    return name.startswith(_BEHIND_THE_DOOR) or name.rpartition(".")[2] == "JobStore"


def layer_violations(rel: str, tree: ast.AST) -> list[str]:
    """Imports that cross a layer boundary, as `file:line: why`."""
    out: list[str] = []
    for line, name in imported_names(tree, _module_of(rel), rel.endswith("__init__.py")):
        top = name.split(".")[0]
        where = f"{rel}:{line}: imports {name}"
        if rel.startswith("bot/") and (top in COMFY or name.startswith("engine.comfy")):
            out.append(f"{where} (bot/ never touches ComfyUI)")
        elif rel.startswith("bot/") and _behind_the_door(name):
            out.append(f"{where} (bot/ reaches the engine only through engine.api)")
        elif rel.startswith("bot/") and top == "ltxbot":
            out.append(f"{where} (bot/ gets its BotConfig; never the composition root)")
        elif rel.startswith("engine/") and top == "discord":
            out.append(f"{where} (engine/ never touches discord)")
        elif top in COMFY and not rel.startswith(COMFY_ALLOWED):
            out.append(f"{where} (only engine/comfy/ imports ComfyUI)")
    return out


def private_imports(rel: str, tree: ast.AST) -> set[tuple[str, str]]:
    """(file, name) for each `x._y` imported from outside package `x`; a
    package's private modules are for it and its subpackages."""
    module = _module_of(rel)
    package = module if rel.endswith("__init__.py") else module.rpartition(".")[0]
    out: set[tuple[str, str]] = set()
    for _line, name in imported_names(tree, module, rel.endswith("__init__.py")):
        parts = name.split(".")
        for i, part in enumerate(parts[1:], start=1):
            if part.startswith("_") and not part.startswith("__"):
                owner = ".".join(parts[:i])
                if package != owner and not package.startswith(owner + "."):
                    out.add((rel, ".".join(parts[: i + 1])))
                break
    return out


def status_writes(rel: str, tree: ast.AST) -> list[str]:
    """SQL that sets a job's status, or an assignment to a `.status` attribute,
    outside the store."""
    if rel.startswith("engine/jobs/"):
        return []
    out: list[str] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _STATUS_SQL.search(node.value)
        ):
            out.append(f"{rel}:{node.lineno}: SQL writes jobs.status")
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for t in targets:
            if isinstance(t, ast.Attribute) and t.attr == "status":
                out.append(f"{rel}:{node.lineno}: assigns .status")
    return out


def oversized(sizes: dict[str, int]) -> set[str]:
    """The files, of `{file: line count}`, past MAX_LINES."""
    return {f for f, n in sizes.items() if n > MAX_LINES}


def _parse(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


# -- the codebase ---------------------------------------------------------------------


def test_layers_hold() -> None:
    problems = [v for p in _sources(*LAYERS) for v in layer_violations(_rel(p), _parse(p))]
    assert problems == []


def test_private_modules_stay_in_their_package() -> None:
    found = {v for p in _sources(*LAYERS) for v in private_imports(_rel(p), _parse(p))}
    new = found - PRIVATE_ALLOWED
    assert sorted(new) == [], "import a public module instead, or make this one public"
    stale = {e for e in PRIVATE_ALLOWED - found if e[0] not in IN_FLIGHT}
    assert sorted(stale) == [], "untangled: drop these from PRIVATE_ALLOWED"


def test_only_the_store_writes_job_status() -> None:
    problems = [
        v
        for p in _sources(*LAYERS)
        if _rel(p) not in IN_FLIGHT
        for v in status_writes(_rel(p), _parse(p))
    ]
    assert problems == []


def test_files_stay_under_400_lines() -> None:
    # tests/ too: a test module past 400 lines is as hard to read as any other.
    sizes = {
        _rel(p): len(p.read_text(encoding="utf-8").splitlines()) for p in _sources(*LAYERS, "tests")
    }
    over = oversized(sizes)
    assert sorted(over - set(SIZE_ALLOWED) - IN_FLIGHT) == [], "split these"
    stale = sorted(set(SIZE_ALLOWED) - over)
    assert stale == [], "split or gone: drop these from SIZE_ALLOWED"


# -- each rule fires ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rel", "source"),
    [
        ("bot/x.py", "import folder_paths"),
        ("bot/x.py", "from comfy import model_management"),
        ("bot/x.py", "from engine.comfy.runtime import Runtime"),
        ("bot/ltx/x.py", "from engine.comfy import boot"),
        ("engine/x.py", "import discord.ui"),
        ("ltxbot/x.py", "import nodes"),
        ("engine/media/x.py", "from comfy_extras import nodes_lt"),
        ("bot/x.py", "from engine.jobs import JobStore"),
        ("bot/cards/x.py", "from engine.front import Engine"),
        ("bot/x.py", "from engine.worker import Worker"),
        ("bot/x.py", "import engine.scheduler"),
        ("bot/client.py", "from ltxbot.settings import Settings"),
    ],
)
def test_layer_rule_fires(rel: str, source: str) -> None:
    assert layer_violations(rel, ast.parse(source))


def test_layer_rule_allows_the_adapter() -> None:
    assert layer_violations("engine/comfy/boot.py", ast.parse("import folder_paths")) == []
    assert layer_violations("bot/x.py", ast.parse("from engine.errors import EngineError")) == []
    assert layer_violations("bot/x.py", ast.parse("from engine.api import EngineApi")) == []
    assert layer_violations("bot/x.py", ast.parse("from engine.jobs import Job")) == []


def test_private_rule_fires() -> None:
    src = "from bot.admin._perms import is_bot_owner\nfrom bot.cards import _render\n"
    assert private_imports("bot/ltx/cog.py", ast.parse(src)) == {
        ("bot/ltx/cog.py", "bot.admin._perms"),
        ("bot/ltx/cog.py", "bot.cards._render"),
    }
    relative = "from ..cards._throttle import ThrottlePolicy"
    assert private_imports("bot/ltx/x.py", ast.parse(relative)) == {
        ("bot/ltx/x.py", "bot.cards._throttle")
    }


def test_private_rule_allows_the_owning_package() -> None:
    src = "from bot.admin._perms import is_bot_owner\nfrom bot._cooldown import MemberCooldown\n"
    assert private_imports("bot/admin/cog.py", ast.parse(src)) == set()
    assert private_imports("bot/admin/__init__.py", ast.parse("from ._perms import x")) == set()


def test_status_rule_fires() -> None:
    sql = "await db.execute(\"UPDATE jobs SET note = ?, status = 'failed' WHERE id = ?\")"
    assert status_writes("bot/x.py", ast.parse(sql))
    assert status_writes("ltxbot/x.py", ast.parse("job.status = 'done'"))
    assert status_writes("engine/jobs/store.py", ast.parse(sql)) == []
    assert status_writes("bot/x.py", ast.parse('db.execute("UPDATE jobs SET note = ?")')) == []


def test_size_rule_fires() -> None:
    assert oversized({"a.py": MAX_LINES, "b.py": MAX_LINES + 1}) == {"b.py"}
