-- Indexes on the two columns that name another job, retry_of and extends.
-- Additive only. Applied in one transaction with PRAGMA user_version = 6.
--
-- Without them, every look down a lineage (`/ltx show`'s takes, a take's
-- place among its siblings: engine/jobs/lineage.py) scans the whole jobs
-- table, and so does every foreign-key check of a deleted job: SQLite looks
-- for rows that still name it in retry_of and in extends, one full scan each
-- per row deleted, so the prompt log's hourly purge (engine/moderation/_log.py)
-- grew with the square of the table and held the write lock meanwhile
-- (10,000 of 20,000 jobs: 53 s before, 0.08 s after). Partial: most jobs name
-- no other, and `col = ?` (what the lineage and the foreign-key checks ask)
-- implies `col IS NOT NULL`, so SQLite uses them for both; the purge's walk
-- of every retried job reads the small index instead of the table.

CREATE INDEX jobs_retry_of ON jobs (retry_of) WHERE retry_of IS NOT NULL;
CREATE INDEX jobs_extends ON jobs (extends) WHERE extends IS NOT NULL;
