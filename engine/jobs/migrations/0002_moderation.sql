-- Community safety: prompt rules, age-restricted modes, reports, and the
-- guild's moderation settings (engine/moderation/store.py). Additive only:
-- no table of 0001 changes. Applied in one transaction with
-- PRAGMA user_version = 2.

CREATE TABLE prompt_rules (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id   INTEGER NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('term', 'regex')),
    pattern    TEXT    NOT NULL,
    scope      TEXT    NOT NULL CHECK (scope IN ('block', 'age_restricted')),
    created_by INTEGER NOT NULL,
    created_at REAL    NOT NULL,
    UNIQUE (guild_id, kind, pattern, scope)
);

CREATE TABLE age_restricted_modes (
    guild_id INTEGER NOT NULL,
    mode     TEXT    NOT NULL,
    PRIMARY KEY (guild_id, mode)
);

CREATE TABLE moderation_settings (
    guild_id           INTEGER PRIMARY KEY,
    report_channel_id  INTEGER,                    -- NULL: reports are not posted
    log_retention_days INTEGER NOT NULL DEFAULT 30 CHECK (log_retention_days >= 1)
);

-- A job's reports go with it when retention deletes the job; a job with an
-- open report is never deleted (the store's purge skips it).
CREATE TABLE reports (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id          INTEGER NOT NULL,
    job_id            TEXT    NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    reporter_id       INTEGER NOT NULL,
    created_at        REAL    NOT NULL,
    status            TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    resolved_by       INTEGER,
    resolved_at       REAL,
    action            TEXT,
    report_message_id INTEGER,
    CHECK ((status = 'open') = (resolved_at IS NULL))
);

-- One open report per job and reporter; a resolved one does not count.
CREATE UNIQUE INDEX reports_open_once ON reports (job_id, reporter_id) WHERE status = 'open';
CREATE INDEX reports_guild ON reports (guild_id, status, id);
CREATE INDEX reports_job ON reports (job_id);   -- the cascade looks reports up by job
