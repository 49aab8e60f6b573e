-- Refused prompts, for the prompt log (engine/moderation/_log.py): a prompt
-- a server rule refused never becomes a job, so without this table the log
-- would show admins everything except what their rules stopped. Additive
-- only. Applied in one transaction with PRAGMA user_version = 3.

CREATE TABLE prompt_refusals (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id   INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    mode       TEXT    NOT NULL,
    params     TEXT    NOT NULL,                  -- JSON, as a job's
    rule_id    INTEGER,                           -- NULL: the whole mode is gated
    reason     TEXT    NOT NULL CHECK (reason IN ('blocked', 'age_restricted')),
    at         REAL    NOT NULL
);

CREATE INDEX prompt_refusals_guild ON prompt_refusals (guild_id, at);
