"""The Discord frontend (discord.py). `bot.client.LtxBot` composes it.

One feature per package: `ltx/` (the /ltx commands and the job actions behind
them), `cards/` (job cards and their throttled edits), `delivery/` (posting
results exactly once), `retry/` (the Retry and Cancel buttons, the 🔁 reaction),
`admin/` (/ltxadmin and permission checks); `errors.py` maps every error to
what a user reads. Pure logic lives in the private `_*.py` modules.
"""
