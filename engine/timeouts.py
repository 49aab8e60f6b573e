"""How long a job may run before it is interrupted.

A single fixed timeout is wrong at both ends: a 2-second 480p clip would wait
minutes to be declared stuck, and a 10-second 1080p Quality render would be
killed while healthy. The budget starts from the mode's own estimate of warm
GPU time (`engine.modes.estimate_gpu_seconds`, calibrated from published
timings), multiplies it by a safety factor for slower GPUs, adds an allowance
for loading models on the first job, and is clamped to operator bounds.

On timeout the run is interrupted and retried once at `retry_factor` times the
budget: a transient stall (another process on the GPU, a slow disk during the
first model load) gets a second chance, a truly stuck job fails within bounds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TimeoutPolicy:
    min_s: float = 60.0
    max_s: float = 1800.0
    cold_load_s: float = 90.0
    safety: float = 3.0
    retry_factor: float = 2.0
    retries: int = 1
    # After an interrupt, how long ComfyUI may take to stop before the engine
    # is declared hung.
    interrupt_grace_s: float = 30.0

    # A learned estimate may tighten the budget to this share of the
    # constants' budget, no further (see `budget`).
    learned_floor: float = 0.5

    def budget(
        self, estimate_s: float | None, *, cold: bool, learned_s: float | None = None
    ) -> float:
        """Seconds for the first attempt. No estimate (an operator's own
        workflow) gets the upper bound.

        `learned_s` (engine/eta.py: this deployment's measured runs of jobs
        like this one) replaces the estimate, within bounds. It may raise the
        budget as far as `max_s`: the constants model an H200, and on a slower
        GPU a budget from them would kill healthy renders. It may tighten it
        only to `learned_floor` of the constants' budget and never below
        `min_s`: measured runs can look faster than a job will be (ComfyUI
        serves a repeated graph from its cache; a median of three runs is
        little), and killing a healthy job costs more than noticing a stuck
        one later."""
        constant = self._budget(estimate_s, cold=cold)
        if learned_s is None:
            return constant
        learned = self._budget(learned_s, cold=cold)
        return min(self.max_s, max(learned, constant * self.learned_floor, self.min_s))

    def _budget(self, estimate_s: float | None, *, cold: bool) -> float:
        if estimate_s is None:
            return self.max_s
        raw = estimate_s * self.safety + (self.cold_load_s if cold else 0.0)
        return min(self.max_s, max(self.min_s, raw))

    def attempts(self, first_budget_s: float) -> list[float]:
        """The budget of every attempt, first one included. Retries grow by
        `retry_factor` but never past `max_s` (nor below the first budget)."""
        cap = max(first_budget_s, self.max_s)
        return [min(cap, first_budget_s * self.retry_factor**i) for i in range(self.retries + 1)]

    def deadline_s(self, first_budget_s: float) -> float:
        """Seconds after which a run is far past its budget: every attempt, and
        a grace after each interrupt."""
        budgets = self.attempts(first_budget_s)
        return sum(budgets) + len(budgets) * self.interrupt_grace_s
