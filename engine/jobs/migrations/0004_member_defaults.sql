-- Per-member defaults (`/ltx settings`, engine/jobs/defaults.py): what a
-- member's commands use where an option is left out. One row per member of a
-- guild; NULL: no default of theirs (the mode's own applies). Additive only.
-- Applied in one transaction with PRAGMA user_version = 4.

CREATE TABLE member_defaults (
    guild_id       INTEGER NOT NULL,
    user_id        INTEGER NOT NULL,
    preset         TEXT CHECK (preset IN ('fast', 'balanced', 'quality')),
    width          INTEGER CHECK (width > 0),
    height         INTEGER CHECK (height > 0),
    fps            INTEGER CHECK (fps > 0),
    enhance_prompt INTEGER CHECK (enhance_prompt IN (0, 1)),
    updated_at     REAL    NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);
