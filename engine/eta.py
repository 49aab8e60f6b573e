"""ETAs and timeout budgets from the jobs this deployment actually ran.

The constants (`engine.modes.estimate_gpu_seconds`) model LTX-2.3 on an H200;
a deployment on another GPU, or with a different workflow, runs faster or
slower by a factor no constant knows. `RunTimes` learns it from finished jobs:
it is loaded once at startup from the jobs table (the newest `LOAD_LIMIT`
successes, one SQL read) and updated in memory on every success, so no card
edit or ETA ever queries the database. Every estimate is O(1): the statistics
are recomputed when a sample arrives, not when one is asked for.

What is learned is a job's measured engine seconds (`gpu_seconds`: the prompt
in ComfyUI, the figure the timeout budget bounds), by job shape:

- the same mode, preset, prompt enhancement, size and frame count: the median
  of its last `KEEP` runs, once there are `MIN_SAMPLES` (a median, so the cold
  first job of a process, which loads the models, does not move it);
- otherwise the same mode, preset and enhancement at another size: a power law
  in frame-pixels (seconds = e^a x pixels^b) fitted by Theil-Sen (the median
  of the pairwise slopes in log-log, robust to the same outliers), with b
  kept within [0.5, 2] (linear work to attention-bound); one size only: b = 1;
- otherwise nothing, and the caller uses the constants.

The timeout budget stays the policy's decision (`TimeoutPolicy.budget`, which
says how far a learned estimate may move it). Wired in
`ltxbot.app.start_engine` (the in-process worker). The scale-out dispatcher
keeps the constants for now: its workers compute their own budget from them,
so a learned one would have to travel with the job first.
"""

from __future__ import annotations

import math
import statistics
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from engine.errors import LtxError
from engine.events import JobEvents, Progress
from engine.jobs import Job, JobStatus
from engine.modes import frames_for, get_mode, window_frames
from engine.prepare import Prepared, Preparer

if TYPE_CHECKING:
    from engine.jobs import JobStore

KEEP = 32  # runs kept per exact shape
KEEP_FAMILY = 64  # runs kept per mode, preset and enhancement
MIN_SAMPLES = 3
LOAD_LIMIT = 2000  # successes read at startup, newest first
SLOPE_BOUNDS = (0.5, 2.0)


@dataclass(frozen=True)
class Shape:
    """What a job's run time depends on, as far as its parameters tell."""

    mode: str
    preset: str
    enhance: bool
    width: int
    height: int
    frames: int

    @property
    def family(self) -> tuple[str, str, bool]:
        return self.mode, self.preset, self.enhance

    @property
    def pixels(self) -> int:
        return self.width * self.height * self.frames


def shape_of(job: Job) -> Shape | None:
    """The job's shape from its stored (completed) parameters; None when they
    lack a size or length (an operator's own workflow, an old row)."""
    p = job.params
    try:
        width, height = int(p["width"]), int(p["height"])
        duration, fps = float(p["duration_s"]), int(p["fps"])
        timed = get_mode(job.mode).timed
    except (KeyError, TypeError, ValueError, LtxError):  # LtxError: a mode no longer known
        return None
    source_fps = p.get("source_fps") or fps
    frames = frames_for(duration, fps) if timed else window_frames(duration, float(source_fps))
    if width <= 0 or height <= 0 or frames <= 0:
        return None
    return Shape(
        job.mode, str(p.get("preset", "")), bool(p.get("enhance_prompt")), width, height, frames
    )


def theil_sen(points: Iterable[tuple[float, float]]) -> tuple[float, float]:
    """(intercept, slope) of log(seconds) against log(pixels): the median of
    the pairwise slopes (within SLOPE_BOUNDS; 1 when every point has the same
    size), then the median intercept."""
    pts = [(math.log(x), math.log(y)) for x, y in points]
    slopes = [
        (y2 - y1) / (x2 - x1)
        for i, (x1, y1) in enumerate(pts)
        for x2, y2 in pts[i + 1 :]
        if x2 != x1
    ]
    lo, hi = SLOPE_BOUNDS
    slope = min(hi, max(lo, statistics.median(slopes))) if slopes else 1.0
    return statistics.median(y - slope * x for x, y in pts), slope


class RunTimes:
    """The learned model (see the module doc). Not thread-safe: the engine's
    event loop feeds and reads it."""

    def __init__(self) -> None:
        self._exact: dict[Shape, deque[float]] = {}
        self._family: dict[tuple[str, str, bool], deque[tuple[int, float]]] = {}
        self._medians: dict[Shape, float] = {}
        self._fits: dict[tuple[str, str, bool], tuple[float, float]] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()

    @classmethod
    async def load(cls, store: JobStore, limit: int = LOAD_LIMIT) -> RunTimes:
        """From the newest `limit` successes in the jobs table, oldest first."""
        times = cls()
        jobs = await store.list(JobStatus.SUCCEEDED, limit=limit, newest_first=True)
        for job in reversed(jobs):
            times.observe(job)
        return times

    def __len__(self) -> int:
        return sum(len(d) for d in self._family.values())

    def observe(self, job: Job) -> None:
        """Learn from a finished job (only successes with a measured time, each
        job once)."""
        if job.status is not JobStatus.SUCCEEDED or job.gpu_seconds <= 0 or job.id in self._seen:
            return
        self._seen[job.id] = None
        if len(self._seen) > 4 * KEEP_FAMILY:
            self._seen.popitem(last=False)
        shape = shape_of(job)
        if shape is None:
            return
        runs = self._exact.setdefault(shape, deque(maxlen=KEEP))
        runs.append(job.gpu_seconds)
        if len(runs) >= MIN_SAMPLES:
            self._medians[shape] = statistics.median(runs)
        family = self._family.setdefault(shape.family, deque(maxlen=KEEP_FAMILY))
        family.append((shape.pixels, job.gpu_seconds))
        if len(family) >= MIN_SAMPLES:
            self._fits[shape.family] = theil_sen(family)

    def estimate(self, job: Job) -> float | None:
        """Learned engine seconds for `job`, or None until there is data."""
        shape = shape_of(job)
        if shape is None:
            return None
        exact = self._medians.get(shape)
        if exact is not None:
            return exact
        fit = self._fits.get(shape.family)
        if fit is None:
            return None
        intercept, slope = fit
        return math.exp(intercept + slope * math.log(shape.pixels))


class LearnedPreparer:
    """A Preparer whose estimates come from `RunTimes` where it has data and
    from the wrapped preparer's constants otherwise. `prepare` keeps the
    constant in `estimate_s` and adds the learned one as `learned_s`, so the
    timeout policy can bound what the learned figure may do."""

    def __init__(self, inner: Preparer, times: RunTimes) -> None:
        self.inner = inner
        self.times = times

    async def prepare(self, job: Job) -> Prepared:
        prepared = await self.inner.prepare(job)
        return replace(prepared, learned_s=self.times.estimate(job))

    def estimate(self, job: Job) -> float | None:
        learned = self.times.estimate(job)
        return learned if learned is not None else self.inner.estimate(job)


class LearningEvents:
    """JobEvents that teach `RunTimes` every success, then pass the change on."""

    def __init__(self, times: RunTimes, inner: JobEvents) -> None:
        self.times = times
        self.inner = inner

    async def job_changed(self, job: Job, progress: Progress | None = None) -> None:
        if progress is None:
            self.times.observe(job)
        await self.inner.job_changed(job, progress)
