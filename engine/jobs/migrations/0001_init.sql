-- Jobs, quotas and guild admin state. Applied in one transaction; the
-- runner sets PRAGMA user_version = 1 inside the same transaction.

CREATE TABLE jobs (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    id                TEXT    NOT NULL UNIQUE,
    guild_id          INTEGER,
    channel_id        INTEGER NOT NULL,
    user_id           INTEGER NOT NULL,
    mode              TEXT    NOT NULL,
    params            TEXT    NOT NULL,            -- JSON object, resolved seed included
    inputs            TEXT    NOT NULL,            -- JSON object: slot -> sha256
    status            TEXT    NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    created_at        REAL    NOT NULL,
    started_at        REAL,
    finished_at       REAL,
    error_code        TEXT,
    error_detail      TEXT,
    system_fault      INTEGER NOT NULL DEFAULT 0,
    result_path       TEXT,
    gpu_seconds       REAL    NOT NULL DEFAULT 0,
    card_message_id   INTEGER,
    result_message_id INTEGER,
    retry_of          TEXT REFERENCES jobs (id),
    note              TEXT
);

CREATE INDEX jobs_status_seq ON jobs (status, seq);
CREATE INDEX jobs_user_day ON jobs (guild_id, user_id, created_at);
CREATE INDEX jobs_card_message ON jobs (card_message_id) WHERE card_message_id IS NOT NULL;
CREATE INDEX jobs_result_message ON jobs (result_message_id) WHERE result_message_id IS NOT NULL;

CREATE TABLE quota_rules (
    guild_id            INTEGER NOT NULL,
    scope               TEXT    NOT NULL CHECK (scope IN ('guild', 'role', 'user')),
    target_id           INTEGER NOT NULL,          -- 0 for the guild default
    jobs_per_day        INTEGER CHECK (jobs_per_day >= 0),
    gpu_seconds_per_day REAL    CHECK (gpu_seconds_per_day >= 0),
    PRIMARY KEY (guild_id, scope, target_id)
);

CREATE TABLE guild_settings (
    guild_id            INTEGER PRIMARY KEY,
    paused              INTEGER NOT NULL DEFAULT 0,
    allowed_channel_ids TEXT    NOT NULL DEFAULT '[]',   -- JSON list
    max_duration_s      REAL,
    max_width           INTEGER,
    max_height          INTEGER
);

CREATE TABLE bans (
    guild_id  INTEGER NOT NULL,
    user_id   INTEGER NOT NULL,
    reason    TEXT,
    banned_at REAL    NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id INTEGER,                              -- NULL: a global action
    actor_id INTEGER NOT NULL,
    action   TEXT    NOT NULL,
    target   TEXT,
    detail   TEXT    NOT NULL DEFAULT '{}',        -- JSON object
    at       REAL    NOT NULL
);

CREATE INDEX audit_log_guild ON audit_log (guild_id, id);

CREATE TABLE global_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
