"""The lineage lines of `/ltx show`: which job a take came from, and its takes.

Takes (Retry, Variations, Final) stay in their parent's channel, so whoever
may see the job may see its whole family: the lines name job ids only, each
one a `/ltx show` away. Pure: a `Lineage` in, text out.
"""

from __future__ import annotations

from engine.jobs import Job, Lineage


def _kind(job: Job, parent: Job) -> str:
    """Final keeps the parent's seed (engine/takes.py); Retry and Variations
    draw a new one."""
    same_seed = job.params.get("seed") == parent.params.get("seed")
    return "Final" if same_seed else "new seed"


def lineage_lines(lineage: Lineage) -> list[str]:
    """'take 2 of `abc` (new seed) ← `xyz`' and 'takes from it: ...'; nothing
    for a job with neither parent nor takes."""
    lines = []
    if lineage.ancestors:
        parent, *older = lineage.ancestors
        place = f"take {lineage.take} of" if lineage.take else "take of"
        chain = [f"{place} `{parent.id}` ({_kind(lineage.job, parent)})"]
        chain += [f"`{j.id}`" for j in older]
        if lineage.more_ancestors:
            chain.append("…")
        lines.append("Made from: " + " ← ".join(chain))
    if lineage.child_count:
        shown = ", ".join(f"`{j.id}`" for j in lineage.children)
        rest = lineage.child_count - len(lineage.children)
        more = f" and {rest} more" if rest > 0 else ""
        lines.append(f"Takes from it ({lineage.child_count}): {shown}{more}")
    return lines
