"""A stand-in for ComfyUI's `PromptServer`.

ComfyUI's executor and some core nodes talk to `server.PromptServer.instance`
(`send_sync`, `client_id`, `last_node_id`, `queue_updated`, ...). In library mode
there is no web server, so this object takes its place and turns the untyped
`(event, dict)` messages into typed events for the run in progress.

The real `server.py` is not imported: it pulls in the web frontend, user and
model managers and their optional packages, none of which a headless engine
needs. Instead a module named `server` holding this class is registered before
any node is imported (`install()`), which is what `from server import
PromptServer` in core nodes resolves to.
"""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Callable
from typing import Any, ClassVar

from engine.comfy.types import (
    ExecutionStarted,
    NodeFinished,
    NodeStarted,
    RuntimeEvent,
    StepProgress,
)

EventSink = Callable[[RuntimeEvent], None]


class RunTracker:
    """Follows one prompt's messages and emits each typed event exactly once."""

    def __init__(
        self, prompt_id: str, prompt: dict[str, Any], outputs: list[str], sink: EventSink
    ) -> None:
        self.prompt_id = prompt_id
        self._classes = {nid: node.get("class_type", "?") for nid, node in prompt.items()}
        self._needed = _ancestors(prompt, outputs)
        self._sink = sink
        self._started: set[str] = set()
        self._finished: set[str] = set()
        self._current: str | None = None
        self.cached: tuple[str, ...] = ()
        self.executed = 0

    def _start(self, node_id: str) -> None:
        if node_id in self._started:
            return
        if self._current is not None and self._current != node_id:
            self._finish(self._current)
        self._started.add(node_id)
        self._current = node_id
        self._sink(NodeStarted(self.prompt_id, node_id, self._classes.get(node_id, "?")))

    def _finish(self, node_id: str) -> None:
        if node_id in self._finished or node_id not in self._started:
            return
        self._finished.add(node_id)
        self.executed += 1
        if self._current == node_id:
            self._current = None
        self._sink(NodeFinished(self.prompt_id, node_id))

    def message(self, event: str, data: dict[str, Any]) -> None:
        if data.get("prompt_id") not in (None, self.prompt_id):
            return
        if event == "execution_cached":
            self.cached = tuple(str(n) for n in data.get("nodes", ()))
            runnable = self._needed.difference(self.cached)
            self._sink(ExecutionStarted(self.prompt_id, len(runnable)))
        elif event == "executing":
            node = data.get("node")
            if node is None:
                if self._current is not None:
                    self._finish(self._current)
            else:
                self._start(str(node))
        elif event == "executed":
            self._finish(str(data.get("node")))
        elif event == "progress_state":
            # Newer ComfyUI reports per-node states; map them onto the same events.
            for node_id, state in (data.get("nodes") or {}).items():
                status = state.get("state") if isinstance(state, dict) else None
                if status == "running":
                    self._start(str(node_id))
                elif status == "finished":
                    self._start(str(node_id))
                    self._finish(str(node_id))

    def step(
        self, value: int, total: int, node_id: str | None, preview: bytes | None = None
    ) -> None:
        node = node_id if node_id is not None else self._current
        self._sink(StepProgress(self.prompt_id, node, int(value), int(total), preview))

    def close(self) -> None:
        if self._current is not None:
            self._finish(self._current)


def _ancestors(prompt: dict[str, Any], outputs: list[str]) -> set[str]:
    """The nodes ComfyUI will run for these outputs: they and what feeds them
    (nodes nothing needs, like an unused primitive, never run)."""
    seen: set[str] = set()
    stack = [str(o) for o in outputs]
    while stack:
        node_id = stack.pop()
        if node_id in seen or node_id not in prompt:
            continue
        seen.add(node_id)
        for value in prompt[node_id].get("inputs", {}).values():
            if isinstance(value, list) and len(value) == 2 and isinstance(value[1], int):
                stack.append(str(value[0]))
    return seen


class PromptServerStandIn:
    """The attributes ComfyUI reads or writes on its server object, across versions."""

    instance: ClassVar[PromptServerStandIn | None] = None

    def __init__(self) -> None:
        self.client_id: str | None = None
        self.last_node_id: str | None = None
        self.last_prompt_id: str | None = None
        self.sockets: dict[str, Any] = {}
        self.sockets_metadata: dict[str, Any] = {}
        self.supports: set[str] = set()
        self.number = 0
        self.prompt_queue = None
        self.loop = None
        self.routes = _Routes()
        self.user_manager = None
        self.on_prompt_handlers: list[Any] = []
        self._lock = threading.Lock()
        self._tracker: RunTracker | None = None
        self._replace_manager: Any = None

    @property
    def node_replace_manager(self) -> Any:
        """ComfyUI's own registry of renamed nodes (0.33 line), made on first
        use: built-in node modules register replacements into it at boot, and
        it imports `nodes`, which must not happen before the flags are set.
        Older ComfyUI has no such module and never asks."""
        if self._replace_manager is None:
            from app.node_replace_manager import NodeReplaceManager

            self._replace_manager = NodeReplaceManager()
        return self._replace_manager

    def apply_replacements(self, prompt: dict[str, Any]) -> None:
        """Rewrite nodes that ComfyUI renamed, in place, as its server does
        before validating a queued prompt (a no-op where none is registered)."""
        manager = self._replace_manager
        if manager is not None:
            manager.apply_replacements(prompt)

    # -- what the runtime uses -------------------------------------------------
    def track(self, tracker: RunTracker | None) -> None:
        with self._lock:
            self._tracker = tracker

    @property
    def tracking(self) -> bool:
        """A run is being followed (a preview made now has somewhere to go)."""
        return self._tracker is not None

    def progress(
        self, value: int, total: int, node_id: str | None, preview: bytes | None = None
    ) -> None:
        tracker = self._tracker
        if tracker is not None:
            tracker.step(value, total, node_id, preview)

    # -- what ComfyUI calls ----------------------------------------------------
    def send_sync(self, event: Any, data: Any, sid: str | None = None) -> None:
        tracker = self._tracker
        if tracker is not None and isinstance(event, str) and isinstance(data, dict):
            tracker.message(event, data)

    async def send(self, event: Any, data: Any, sid: str | None = None) -> None:
        self.send_sync(event, data, sid)

    async def send_json(self, event: Any, data: Any, sid: str | None = None) -> None:
        self.send_sync(event, data, sid)

    def send_progress_text(self, text: Any, node_id: Any, sid: str | None = None) -> None:
        """Nodes print status text to the UI this way; there is no UI here."""

    def queue_updated(self) -> None:
        """There is no browser queue to refresh."""

    def add_on_prompt_handler(self, handler: Any) -> None:
        self.on_prompt_handlers.append(handler)


class _Routes:
    """Accepts route registrations from custom nodes and ignores them."""

    def _register(self, *_args: Any, **_kwargs: Any) -> Callable[[Any], Any]:
        return lambda handler: handler

    get = post = put = patch = delete = route = _register

    def static(self, *_args: Any, **_kwargs: Any) -> None:
        return None


def install() -> PromptServerStandIn:
    """Register a `server` module holding the stand-in, before nodes import it."""
    stand_in = PromptServerStandIn()
    PromptServerStandIn.instance = stand_in
    module = types.ModuleType("server")
    module.PromptServer = PromptServerStandIn  # type: ignore[attr-defined]
    module.__doc__ = "ltx-bot's headless stand-in for ComfyUI's server module"
    sys.modules["server"] = module
    return stand_in
