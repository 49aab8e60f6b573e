-- Extend (engine/extend.py): a job that continues another job's result from
-- its last frame names that job here, so the worker joins the two into the one
-- video it delivers. NULL: an ordinary job. The parent is also its retry_of
-- (the lineage every take records); this column says the result is a join.
-- Additive only. Applied in one transaction with PRAGMA user_version = 5.

ALTER TABLE jobs ADD COLUMN extends TEXT REFERENCES jobs (id);
