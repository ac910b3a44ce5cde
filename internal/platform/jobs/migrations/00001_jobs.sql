-- +goose Up
-- One row per job. Times are microseconds since the Unix epoch (UTC); 0 means
-- "not set". A job holds a lease while it runs: owner names the runner, attempts
-- names the claim (each claim adds one), lease_until is when the lease lapses.
-- Every write adds one to version, so a claim can check nothing moved under it.
CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    state            TEXT NOT NULL,    -- pending, running, succeeded, failed, cancelled
    payload          TEXT NOT NULL,    -- JSON
    unique_key       TEXT,             -- NULL when the job has none
    attempts         BIGINT NOT NULL,
    max_attempts     BIGINT NOT NULL,
    run_after        BIGINT NOT NULL,
    owner            TEXT NOT NULL,    -- runner holding (or that last held) the lease
    lease_until      BIGINT NOT NULL,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    progress_done    BIGINT NOT NULL DEFAULT 0,
    progress_total   BIGINT NOT NULL DEFAULT 0,
    progress_message TEXT NOT NULL DEFAULT '',
    checkpoint       TEXT NOT NULL DEFAULT '',  -- base64 of the handler's opaque bytes
    last_error       TEXT NOT NULL DEFAULT '',
    version          BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    started_at       BIGINT NOT NULL DEFAULT 0,
    finished_at      BIGINT NOT NULL DEFAULT 0,
    CHECK (state IN ('pending', 'running', 'succeeded', 'failed', 'cancelled'))
);

-- What a runner claims next: ready pending jobs, and running jobs whose lease lapsed.
CREATE INDEX jobs_ready ON jobs (state, run_after);
CREATE INDEX jobs_lease ON jobs (state, lease_until);
CREATE INDEX jobs_kind_state ON jobs (kind, state);
CREATE INDEX jobs_created ON jobs (created_at);
CREATE INDEX jobs_finished ON jobs (finished_at);

-- At most one live job per unique key; finished jobs free the key.
CREATE UNIQUE INDEX jobs_unique_live ON jobs (unique_key) WHERE state IN ('pending', 'running');

-- +goose Down
DROP TABLE jobs;
