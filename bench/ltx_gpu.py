"""The six LTX-2.3 modes on a GPU, through the bot's own job path, beside raw ComfyUI.

    python -m bench.ltx_gpu [--cache DIR] [--out DIR] [--stop-at UNIX_TIME] [--json PATH]

Model files come from a Hugging Face cache (`--cache`, default huggingface_hub's
own), found exactly as downloaded ones are (`engine.models.comfy_model_dirs`);
on the GPU box they are full-size random-weight stand-ins written by
`python -m tools.standins --scale full` (bench/device/run.sh does it all).

In one process, after one boot:
- each job goes the way a Discord job goes: `Engine.submit` (admission, store,
  scheduler), the worker's `scheduler.get()` and `Engine.process_one`, then the
  fit of the result under the upload limit (`fit_to_limit`, as delivery does);
- the same t2v graph (`build_workflow` of the same parameters), with the
  template's own SaveVideo in place of the engine's output node, runs through
  a fresh `execution.PromptExecutor`, made as ComfyUI's main.py makes it (its
  default RAM-pressure cache), its `execute()` called as main.py calls it;
  cold (its first prompt: it loads every model itself) and warm.

Order (most wanted first; a step that would pass `--stop-at` is skipped):
t2v cold, t2v warm ×N; our models freed, raw t2v cold, raw warm ×N, raw's
models freed (so host RAM holds one copy of the models at a time); the first
i2v (which reloads them), a2v, lipsync jobs, a second of each, one more t2v; the
dev checkpoint's models freed (`--keep-models` keeps them); keyframe and style
(the distilled checkpoint), first and second. Every job has its own seed and
prompt, so nothing is served from ComfyUI's cache.

Per job: wall time of process_one and of the fit, ComfyUI's time per stage (from
node start/finish messages, see bench/_gpu.py), peak GPU memory, and checks of
the output (frames, size, fps, sound, bytes). The JSON and a Markdown summary
are rewritten after every job, so a run cut short still leaves its figures.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import _gpu
from bench._engine import make_engine
from bench._report import machine, parser
from bench._stats import summarize

T0 = time.perf_counter()  # process start, near enough: for "first video after start"
WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"
MODES = ("t2v", "i2v", "a2v", "lipsync", "keyframe", "style")
PROMPTS = {
    "t2v": "A lighthouse on a cliff at dusk, waves breaking below, gulls circling",
    "i2v": "The scene comes alive, a slow push in, light shifting across the frame",
    "a2v": "A street musician plays to a small crowd in a rainy square at night",
    "lipsync": "",
    "keyframe": "",
    "style": "",
}
# Seconds a step is expected to take at most, to skip it rather than be cut off.
COLD_S, WARM_S = 100.0, 35.0

PromptHook = Callable[[dict[str, Any]], dict[str, Any]]


class Bench:
    """One booted runtime, one engine, the inputs, and every record so far."""

    def __init__(self, args: Any, prompt_hook: PromptHook | None) -> None:
        self.args = args
        self.hook = prompt_hook
        self.records: list[dict[str, Any]] = []
        self.skipped: list[str] = []
        self.freed: list[dict[str, Any]] = []
        self.boot: dict[str, Any] = {}
        self.inputs: dict[str, dict[str, Any]] = {}
        self.seed = 1000
        self.work = Path(tempfile.mkdtemp(prefix="ltxbench-gpu-"))
        self.info = machine()

    # -- setup -------------------------------------------------------------------
    async def start(self, on_boot: Callable[[Any], None] | None) -> None:
        from engine.comfy.boot import boot
        from engine.comfy.locate import find_comfy_dir
        from engine.comfy.runtime import Runtime
        from engine.comfy.types import RuntimeConfig
        from engine.jobs import JobStore
        from engine.models import comfy_model_dirs
        from engine.prepare import check_live_workflows

        started = time.perf_counter()
        config = RuntimeConfig.under(
            find_comfy_dir(self.args.comfy_dir),
            self.work / "comfy",
            device=self.args.device,
            model_dirs=tuple(comfy_model_dirs(WORKFLOWS)),
            extra_args=tuple(self.args.comfy_arg),
        )
        self.runtime = Runtime(config)
        info = await self.runtime.start()
        booted = boot(config)
        if on_boot is not None:
            on_boot(booted)
        found = await check_live_workflows(self.runtime, WORKFLOWS)
        self.boot = {
            "comfyui": info.version,
            "nodes": info.node_count,
            "device": info.device,
            "vram_gib": round(info.vram_bytes / 2**30, 1) if info.vram_bytes else None,
            "boot_s": round(info.boot_seconds, 3),
            "boot_and_check_s": round(time.perf_counter() - started, 3),
            "process_start_to_ready_s": round(time.perf_counter() - T0, 3),
            "workflows": found,
            "model_dirs": [[f, str(p)] for f, p in config.model_dirs],
        }
        self.booted = booted
        self.clock = _gpu.NodeClock(booted.server)
        self.store = await JobStore.open(self.work / "bench.sqlite3")
        self.engine, self.timeline = make_engine(
            self.store, self.runtime, WORKFLOWS, self.work / "outputs"
        )
        _gpu.watch_runtime(self.runtime, self.clock)
        if self.hook is not None:
            preparer, hook = self.engine.worker.preparer, self.hook
            original = preparer.prepare

            async def prepare(job: Any) -> Any:
                from dataclasses import replace

                prepared = await original(job)
                return replace(prepared, prompt=hook(prepared.prompt))

            preparer.prepare = prepare
        if self.args.warmup is not None:  # as the worker does on a GPU before its first job
            self.engine.worker.inputs_dir = self.runtime.config.input_dir
            warmed = {}
            for mode in self.args.warmup or ["t2v"]:
                report = await self.engine.worker.warm_up(mode)
                warmed[mode] = {"ok": report.ok, "seconds": round(report.seconds, 3)}
            self.boot["warmup"] = warmed  # mode -> {ok, seconds}, in the order run
            self.boot["process_start_to_warm_s"] = round(time.perf_counter() - T0, 3)
        await asyncio.to_thread(self._make_inputs)

    def _make_inputs(self) -> None:
        """The attachments each mode takes, ingested as the bot ingests them."""
        from engine.media import MediaLimits, ingest
        from engine.modes import MediaInfo

        a, store = self.args, self.runtime.config.input_dir
        src = self.work / "attachments"
        src.mkdir(parents=True, exist_ok=True)
        seconds = a.duration_s + 1.0
        made = {
            "image": (_gpu.make_image(src / "image.png", a.width, a.height, 1), "image"),
            "last_image": (_gpu.make_image(src / "last.png", a.width, a.height, 5), "image"),
            "audio": (_gpu.make_audio(src / "audio.wav", seconds), "audio"),
            "video": (_gpu.make_video(src / "video.mp4", a.width, a.height, seconds, 25), "video"),
        }
        limits = MediaLimits()
        for name, (path, kind) in made.items():
            started = time.perf_counter()
            stored = ingest(path, kind, store, limits, input_name=name)
            self.inputs[name] = {
                "sha256": stored.sha256,
                "info": MediaInfo.of(stored),
                "ingest_s": round(time.perf_counter() - started, 3),
            }

    def _slots(self, mode: str) -> dict[str, str]:
        names = {
            "t2v": {},
            "i2v": {"image": "image"},
            "a2v": {"audio": "audio"},
            "lipsync": {"image": "image", "audio": "audio"},
            "keyframe": {"first_image": "image", "last_image": "last_image"},
            "style": {"style_image": "image", "video": "video"},
        }[mode]
        return dict(names)

    def params(self, mode: str) -> tuple[dict[str, Any], dict[str, str]]:
        from engine.modes import Limits, parse_params
        from engine.modes._geometry import frames_for

        a = self.args
        self.seed += 1
        slots = self._slots(mode)
        raw: dict[str, Any] = {
            "width": a.width,
            "height": a.height,
            "seed": self.seed,
            "preset": "balanced",
            "enhance_prompt": False,
        }
        if PROMPTS[mode]:
            raw["prompt"] = f"{PROMPTS[mode]}, take {self.seed}"
        else:
            raw["prompt"] = f"take {self.seed}"
        if mode == "style":
            # the source window that keeps the same 8k+1 frames as the other modes
            raw["duration_s"] = (frames_for(a.duration_s, 25) + 0.5) / 25
        else:
            raw["duration_s"] = a.duration_s
        media = {slot: self.inputs[name]["info"] for slot, name in slots.items()}
        parsed = parse_params(mode, raw, Limits(max_duration_s=60.0), media)
        inputs = {slot: self.inputs[name]["sha256"] for slot, name in slots.items()}
        return parsed.model_dump(mode="json"), inputs

    # -- one job of the bot's path ----------------------------------------------------
    async def job(self, mode: str, temperature: str) -> dict[str, Any]:
        from engine.jobs import JobStatus
        from engine.media import fit_to_limit, upload_limit
        from engine.modes import build_workflow, get_mode

        params, inputs = self.params(mode)
        model = get_mode(mode).params_model.model_validate(params)
        expected = build_workflow(mode, model, {k: "x" for k in inputs}, WORKFLOWS)
        job = await self.engine.submit(
            guild_id=1, channel_id=1, user_id=1, mode=mode, params=params, inputs=inputs
        )
        taken = await self.engine.scheduler.get()  # what the worker's loop does
        _gpu.reset_peak()
        with _gpu.DevicePeak() as device_peak:
            started = time.perf_counter()
            done = await self.engine.worker.process_one(taken)
            ended = time.perf_counter()
        mem = _gpu.memory() | {"device_used_peak_gib": device_peak.peak_gib}
        if done.status is not JobStatus.SUCCEEDED:
            raise RuntimeError(
                f"{mode} job {job.id} ended {done.status.value}: {done.error_detail}"
            )
        prompt_id = f"{job.id}-a{done.attempts}-1"
        times = self.clock.times.get(prompt_id, _gpu.NodeTimes())
        result = Path(done.result_path)
        fitted = self.work / "fitted" / f"{job.id}.mp4"
        fitted.parent.mkdir(parents=True, exist_ok=True)
        fit_started = time.perf_counter()
        report = await asyncio.to_thread(fit_to_limit, result, fitted, upload_limit())
        fit_s = time.perf_counter() - fit_started
        record = {
            "path": "ours",
            "mode": mode,
            "temperature": temperature,
            "job_id": job.id,
            "process_one_s": round(ended - started, 3),
            "fit_s": round(fit_s, 3),
            "end_to_end_s": round(ended - started + fit_s, 3),
            "comfy_nodes_s": round(times.span(), 3),
            "stages_s": {k: round(v, 3) for k, v in times.stages().items()},
            "since_process_start_s": round(time.perf_counter() - T0, 3),
            "memory": mem,
            "expected": {
                "width": expected.width,
                "height": expected.height,
                "frames": expected.frames,
                "fps": expected.fps,
            },
            "result": _gpu.probe_video(result),
            "fitted": _gpu.probe_video(fitted) | {"encodes": report.rungs_tried},
            "upload_limit_bytes": upload_limit(),
            "cached_nodes": len(times.cached),
            "nodes": times.as_list(),
        }
        await asyncio.to_thread(_gpu.forget, result, fitted)
        return record

    # -- raw ComfyUI, as its main.py runs a prompt ------------------------------------
    def raw_executor(self) -> Any:
        """A PromptExecutor as main.py's prompt_worker makes it."""
        execution, args = self.booted.execution, self.booted.args
        mm = self.booted.model_management
        cache_ram, cache_ram_inactive = 0.0, 0.0
        classic = getattr(args, "cache_classic", False)
        lru = getattr(args, "cache_lru", 0) or 0
        none = getattr(args, "cache_none", False)
        if not classic and not none and lru <= 0:
            cache_ram = min(10.0, max(2.0, mm.total_ram * 0.10 / 1024.0))
            cache_ram_inactive = min(128.0, mm.total_ram / 1024.0)
            ram_args = list(getattr(args, "cache_ram", []) or [])
            if len(ram_args) > 0:
                cache_ram = ram_args[0]
            if len(ram_args) > 1:
                cache_ram_inactive = ram_args[1]
        cache_type = getattr(execution.CacheType, "RAM_PRESSURE", execution.CacheType.CLASSIC)
        if classic:
            cache_type = execution.CacheType.CLASSIC
        elif lru > 0:
            cache_type = execution.CacheType.LRU
        elif none:
            cache_type = execution.CacheType.NONE
        self.raw_cache = {
            "type": str(cache_type),
            "ram": cache_ram,
            "ram_inactive": cache_ram_inactive,
        }
        cache_args = {"lru": lru, "ram": cache_ram, "ram_inactive": cache_ram_inactive}
        return execution.PromptExecutor(
            self.booted.server, cache_type=cache_type, cache_args=cache_args
        )

    async def raw(self, executor: Any, temperature: str, index: int) -> dict[str, Any]:
        from engine.modes import build_workflow, get_mode

        params, _ = self.params("t2v")
        model = get_mode("t2v").params_model.model_validate(params)
        built = build_workflow("t2v", model, {}, WORKFLOWS)
        prompt = _gpu.with_comfy_save(built.prompt)
        prompt = prompt if self.hook is None else self.hook(prompt)
        outputs = list(built.output_node_ids)
        prompt_id = f"raw-{index}"
        for node_id in outputs:
            if "filename_prefix" in prompt[node_id]["inputs"]:
                prompt[node_id]["inputs"]["filename_prefix"] = f"bench-raw/{prompt_id}/t2v"
        server = self.booted.server
        self.clock.expect(prompt_id, prompt, outputs)

        def execute() -> float:
            from engine.comfy.runtime import _execute_lock

            with _execute_lock:  # the runtime's own lock: nothing else runs meanwhile
                server.last_prompt_id = prompt_id
                started = time.perf_counter()
                executor.execute(prompt, prompt_id, {"client_id": "bench-raw"}, outputs)
                return time.perf_counter() - started

        _gpu.reset_peak()
        with _gpu.DevicePeak() as device_peak:
            seconds = await asyncio.to_thread(execute)
        mem = _gpu.memory() | {"device_used_peak_gib": device_peak.peak_gib}
        times = self.clock.close(prompt_id)
        if not executor.success:
            raise RuntimeError(f"raw run {prompt_id} failed: {executor.status_messages[-1:]}")
        out_dir = Path(self.booted.folder_paths.get_output_directory()) / "bench-raw" / prompt_id
        videos = sorted(out_dir.glob("*.mp4"))
        record = {
            "path": "raw",
            "mode": "t2v",
            "temperature": temperature,
            "execute_s": round(seconds, 3),
            "comfy_nodes_s": round(times.span(), 3),
            "stages_s": {k: round(v, 3) for k, v in times.stages().items()},
            "memory": mem,
            "result": _gpu.probe_video(videos[0]) if videos else None,
            "cached_nodes": len(times.cached),
            "nodes": times.as_list(),
        }
        shutil.rmtree(out_dir, ignore_errors=True)
        return record

    # -- the plan ---------------------------------------------------------------------
    def _time_left(self) -> float:
        if self.args.stop_at is None:
            return float("inf")
        return self.args.stop_at - time.time()

    async def step(self, label: str, need_s: float, run: Callable[[], Any]) -> None:
        if self._time_left() < need_s:
            self.skipped.append(label)
            print(f"-- skipped {label}: {self._time_left():.0f} s left", flush=True)
            return
        print(f"-- {label} ...", flush=True)
        try:
            record = await run()
        except Exception as exc:  # noqa: BLE001 - one broken mode must not hide the others' figures
            record = {"label": label, "error": f"{type(exc).__name__}: {exc}"}
            print(f"   FAILED: {record['error']}", flush=True)
        else:
            record["label"] = label
            print("   " + one_line(record), flush=True)
        self.records.append(record)
        self.write()

    def free_models(self, label: str, executor: Any = None) -> None:
        """Drop an executor's cached node outputs (its loaded models) and unload
        every model, as ComfyUI's own "free memory" does (`e.reset()`,
        `unload_all_models`), so host RAM holds one copy of the models at a time."""
        started = time.perf_counter()
        mm = self.booted.model_management
        (executor or self.booted.executor).reset()
        mm.unload_all_models()
        gc.collect()
        mm.soft_empty_cache()
        seconds = round(time.perf_counter() - started, 3)
        self.freed.append({"label": label, "seconds": seconds, "memory": _gpu.memory()})
        print(f"-- freed models: {label} ({seconds} s)", flush=True)

    async def run(self) -> None:
        a, others = self.args, [m for m in self.args.modes if m != "t2v"]
        dev = [m for m in others if m in ("i2v", "a2v", "lipsync")]
        distilled = [m for m in others if m in ("keyframe", "style")]
        if "t2v" in a.modes:
            await self.step("t2v cold", COLD_S, lambda: self.job("t2v", "cold"))
            for i in range(a.warm):
                await self.step(f"t2v warm {i + 1}", WARM_S, lambda: self.job("t2v", "warm"))
        if a.raw and "t2v" in a.modes and self._time_left() > COLD_S:
            await self.raw_runs()
        for n, mode in enumerate(dev):
            label = f"{mode} first" + (" (models reloaded)" if n == 0 and a.raw else "")
            await self.step(label, COLD_S, lambda m=mode: self.job(m, "first"))
        for _ in range(a.mode_runs - 1):
            for mode in dev:
                await self.step(f"{mode} warm", WARM_S, lambda m=mode: self.job(m, "warm"))
        for i in range(a.extra_t2v if "t2v" in a.modes else 0):
            await self.step(f"t2v warm extra {i + 1}", WARM_S, lambda: self.job("t2v", "warm"))
        if distilled and a.free_before_distilled and self._time_left() > COLD_S:
            await asyncio.to_thread(self.free_models, "the dev checkpoint's, before keyframe/style")
        for mode in distilled:
            await self.step(f"{mode} first", COLD_S, lambda m=mode: self.job(m, "first"))
        for _ in range(a.mode_runs - 1):
            for mode in distilled:
                if f"{mode} first" in self.skipped:  # its "warm" run would be its first
                    self.skipped.append(f"{mode} warm")
                    continue
                await self.step(f"{mode} warm", WARM_S, lambda m=mode: self.job(m, "warm"))

    async def raw_runs(self) -> None:
        """Raw ComfyUI's t2v, cold then warm. It loads its own copy of every model,
        so ours go first and its own go after."""
        from engine.comfy import preview

        await asyncio.to_thread(self.free_models, "ours, before raw ComfyUI")
        # Raw ComfyUI as its main.py runs by default: no latent previews (ours
        # are on; the difference is part of what the ratio measures).
        preview.install(False)
        executor = self.raw_executor()
        await self.step("raw t2v cold", COLD_S, lambda: self.raw(executor, "cold", 0))
        for i in range(self.args.warm):
            await self.step(
                f"raw t2v warm {i + 1}",
                WARM_S,
                lambda i=i: self.raw(executor, "warm", i + 1),
            )
        await asyncio.to_thread(self.free_models, "raw ComfyUI's, after its runs", executor)
        preview.install(True)

    async def close(self) -> None:
        await self.store.close()
        await self.runtime.close()
        shutil.rmtree(self.work, ignore_errors=True)

    # -- output -------------------------------------------------------------------------
    def results(self) -> dict[str, Any]:
        return {
            "benchmark": "ltx_gpu",
            "machine": self.info,
            "settings": {
                "width": self.args.width,
                "height": self.args.height,
                "duration_s": self.args.duration_s,
                "preset": "balanced",
                "enhance_prompt": False,
                "warm_runs": self.args.warm,
                "comfy_args": list(self.args.comfy_arg),
            },
            "boot": self.boot,
            "inputs": {
                k: {"ingest_s": v["ingest_s"], "info": vars(v["info"])}
                for k, v in self.inputs.items()
            },
            "raw_cache": getattr(self, "raw_cache", None),
            "summary": summarize_records(self.records),
            "skipped": self.skipped,
            "freed": self.freed,
            "records": self.records,
        }

    def write(self) -> None:
        results = self.results()
        out = self.args.out
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            (out / "ltx_gpu.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
            (out / "ltx_gpu.md").write_text(markdown(results))
        if self.args.json is not None:
            self.args.json.parent.mkdir(parents=True, exist_ok=True)
            self.args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")


# ---- summaries ---------------------------------------------------------------------


def _group(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        if "error" in r:
            continue
        key = f"{r['path']} {r['mode']} {r['temperature']}"
        groups.setdefault(key, []).append(r)
    return groups


def summarize_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, rs in _group(records).items():
        total = "process_one_s" if rs[0]["path"] == "ours" else "execute_s"
        entry: dict[str, Any] = {"n": len(rs), total: summarize([r[total] for r in rs]).as_dict()}
        if rs[0]["path"] == "ours":
            entry["fit_s"] = summarize([r["fit_s"] for r in rs]).as_dict()
            entry["end_to_end_s"] = summarize([r["end_to_end_s"] for r in rs]).as_dict()
        entry["stages_s"] = {
            s: summarize([r["stages_s"][s] for r in rs]).as_dict() for s in _gpu.STAGES
        }
        entry["peak_allocated_gib"] = max((r["memory"]["peak_allocated_gib"] or 0.0) for r in rs)
        entry["peak_reserved_gib"] = max((r["memory"]["peak_reserved_gib"] or 0.0) for r in rs)
        entry["device_used_peak_gib"] = max(
            (r["memory"].get("device_used_peak_gib") or 0.0) for r in rs
        )
        out[key] = entry
    ours = [r["process_one_s"] for r in records if _is(r, "ours", "t2v", "warm")]
    e2e = [r["end_to_end_s"] for r in records if _is(r, "ours", "t2v", "warm")]
    raw = [r["execute_s"] for r in records if _is(r, "raw", "t2v", "warm")]
    ours_cold = [r["process_one_s"] for r in records if _is(r, "ours", "t2v", "cold")]
    raw_cold = [r["execute_s"] for r in records if _is(r, "raw", "t2v", "cold")]
    if ours and raw:
        m_ours, m_raw = summarize(ours).median, summarize(raw).median
        out["ratio_raw_over_ours_warm"] = round(m_raw / m_ours, 4)
        out["ratio_raw_over_ours_warm_with_fit"] = round(m_raw / summarize(e2e).median, 4)
        out["ratio_note"] = f"median raw execute {m_raw:.3f} s / median process_one {m_ours:.3f} s"
    if ours_cold and raw_cold:
        out["ratio_raw_over_ours_cold"] = round(raw_cold[0] / ours_cold[0], 4)
    return out


def _is(r: dict[str, Any], path: str, mode: str, temperature: str) -> bool:
    return (
        "error" not in r
        and r["path"] == path
        and r["mode"] == mode
        and r["temperature"] == temperature
    )


def one_line(r: dict[str, Any]) -> str:
    st = r["stages_s"]
    total = (
        f"process_one {r['process_one_s']:.2f} s + fit {r['fit_s']:.2f} s"
        if r["path"] == "ours"
        else f"execute {r['execute_s']:.2f} s"
    )
    stages = " ".join(f"{k} {v:.2f}" for k, v in st.items() if v)
    mem = r["memory"]
    peak = mem["peak_allocated_gib"]
    return f"{total} | {stages} | peak {peak} GiB alloc, {mem['peak_reserved_gib']} GiB reserved"


def _fmt_stages(st: dict[str, float]) -> list[str]:
    return [f"{st[s]:.2f}" for s in _gpu.STAGES]


def _warmups(warmed: dict[str, dict[str, Any]]) -> str:
    """`t2v 23.2 s, keyframe 12.1 s` (a mode that did not run: `skipped`)."""
    return ", ".join(
        f"{mode} {w['seconds']} s" if w["ok"] else f"{mode} skipped" for mode, w in warmed.items()
    )


def markdown(results: dict[str, Any]) -> str:
    m, b, s = results["machine"], results["boot"], results["settings"]
    lines = [
        "# bench.ltx_gpu",
        "",
        f"{m['date']} — {m.get('gpu')} — {m['cpu']} ({m['cores']} cores) — "
        f"Python {m['python']}, torch {m['torch']}",
        f"ComfyUI {b.get('comfyui')}, {b.get('nodes')} nodes, boot {b.get('boot_s')} s "
        f"(+ workflow check: {b.get('boot_and_check_s')} s; process start → ready "
        f"{b.get('process_start_to_ready_s')} s)"
        + (
            f"; warm-up {_warmups(b['warmup'])} "
            f"(process start → warm {b['process_start_to_warm_s']} s)"
            if "warmup" in b
            else ""
        ),
        f"{s['width']}×{s['height']}, {s['duration_s']} s, preset {s['preset']}, "
        f"enhancer off; raw cache {results.get('raw_cache')}; "
        f"ComfyUI flags {s.get('comfy_args') or 'none'}",
        "",
        "| job | process_one / execute s | fit s | "
        + " | ".join(_gpu.STAGES)
        + " | peak GiB alloc / reserved / device | output | fitted |",
        "|" + "---|" * (len(_gpu.STAGES) + 6),
    ]
    for r in results["records"]:
        if "error" in r:
            lines.append(f"| {r['label']} | **failed**: {r['error'][:300]} |")
            continue
        total = r.get("process_one_s", r.get("execute_s"))
        fit = f"{r['fit_s']:.2f}" if "fit_s" in r else "—"
        out = r.get("result") or {}
        fitted = r.get("fitted") or {}
        lines.append(
            f"| {r['label']} | {total:.2f} | {fit} | "
            + " | ".join(_fmt_stages(r["stages_s"]))
            + f" | {_fmt_mem(r['memory'])} | "
            + _fmt_video(out)
            + " | "
            + (_fmt_video(fitted) if fitted else "—")
            + " |"
        )
    summary = results["summary"]
    lines += ["", "Summary (median (min–max, n)):", ""]
    for key, e in summary.items():
        if not isinstance(e, dict):
            lines.append(f"- {key}: {e}")
            continue
        total_key = "process_one_s" if "process_one_s" in e else "execute_s"
        t = e[total_key]
        text = f"- {key}: {total_key} {t['median']:.2f} ({t['min']:.2f}–{t['max']:.2f}, n={t['n']})"
        if "fit_s" in e:
            f = e["fit_s"]
            text += f", fit {f['median']:.2f} ({f['min']:.2f}–{f['max']:.2f})"
        text += (
            f", peak {e['peak_allocated_gib']} / {e['peak_reserved_gib']} / "
            f"{e['device_used_peak_gib']} GiB (alloc / reserved / device)"
        )
        lines.append(text)
    for f in results.get("freed", []):
        lines.append(f"- models freed ({f['label']}) in {f['seconds']} s")
    if results["skipped"]:
        lines += ["", "Skipped for time: " + ", ".join(results["skipped"])]
    return "\n".join(lines) + "\n"


def _fmt_mem(m: dict[str, Any]) -> str:
    return (
        f"{m.get('peak_allocated_gib')} / {m.get('peak_reserved_gib')} / "
        f"{m.get('device_used_peak_gib')}"
    )


def _fmt_video(v: dict[str, Any]) -> str:
    if not v:
        return "—"
    sound = "+audio" if v.get("audio") else "no audio"
    return (
        f"{v['width']}×{v['height']} {v['frames']}f {v['fps']:.0f}fps {sound} "
        f"{v['bytes'] / 2**20:.1f} MiB"
    )


# ---- entry point -------------------------------------------------------------------


def build_parser() -> Any:
    p = parser(__doc__.split("\n\n")[0])
    _gpu.add_run_arguments(p, "ltx_gpu")
    p.add_argument("--width", type=int, default=768)
    p.add_argument("--height", type=int, default=512)
    p.add_argument("--duration-s", type=float, default=5.0)
    p.add_argument("--warm", type=int, default=2, help="warm t2v runs on each path (default 2)")
    p.add_argument("--extra-t2v", type=int, default=1, help="more warm t2v runs, later")
    p.add_argument(
        "--keep-models",
        dest="free_before_distilled",
        action="store_false",
        help="keep the dev checkpoint's models loaded into keyframe/style (needs the RAM)",
    )
    p.add_argument("--mode-runs", type=int, default=2, help="runs of each other mode (default 2)")
    p.add_argument("--no-raw", dest="raw", action="store_false", help="skip raw ComfyUI")
    p.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    p.add_argument(
        "--warmup",
        nargs="*",
        choices=MODES,
        default=None,
        metavar="MODE",
        help="run the worker's warm-up (engine/warmup.py) of these modes, in order, after "
        "the boot, before the first job (no mode: t2v)",
    )
    p.add_argument(
        "--comfy-arg",
        action="append",
        default=[],
        help="a ComfyUI command-line flag for the boot (repeat: --comfy-arg=--fast ...)",
    )
    return p


async def measure(
    args: Any,
    *,
    prompt_hook: PromptHook | None = None,
    on_boot: Callable[[Any], None] | None = None,
) -> dict[str, Any]:
    """Run the plan; `prompt_hook`/`on_boot` are for the CPU test's text encode
    stand-in (the GPU run uses neither)."""
    if args.cache is not None:
        os.environ["HF_HUB_CACHE"] = str(args.cache)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    bench = Bench(args, prompt_hook)
    try:
        await bench.start(on_boot)
        bench.write()
        await bench.run()
        bench.write()
        return bench.results()
    finally:
        await bench.close()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = build_parser().parse_args(argv)
    if args.quick:  # tiny sizes: proves the plan runs (the CPU test uses tiny weights)
        args.width, args.height, args.duration_s = 256, 256, 0.4
        args.warm, args.extra_t2v, args.mode_runs = 1, 0, 1
    results = asyncio.run(measure(args))
    print(markdown(results), flush=True)
    return results


if __name__ == "__main__":
    main()
