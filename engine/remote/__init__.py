"""Scale-out: one bot, GPU workers on other processes or machines, over Redis.

The bot stays the scheduler and SQLite stays the truth. `Dispatcher` (the
bot's side, an `engine.worker.Consumer`) hands a job to a free worker that can
run it, through the worker's own SAQ queue; `Agent` (`ltx-bot worker`) runs it
on its ComfyUI and reports the ending on a Redis stream. Every dispatch is a
numbered attempt; an ending is accepted only for the job's current attempt.
See docs/scale-out.md.
"""
