-- +goose Up
-- The merger's roadmap: tasks with owners, deadlines, dependencies and progress.
CREATE TABLE merger_task (
    id           TEXT PRIMARY KEY,
    merger_id    TEXT NOT NULL REFERENCES merger (id),
    title        TEXT NOT NULL,
    category     TEXT NOT NULL DEFAULT '',
    phase        TEXT NOT NULL DEFAULT '',
    owner_agency TEXT NOT NULL DEFAULT '',   -- an agency's id in the agency register
    assignee     TEXT NOT NULL DEFAULT '',
    start_day    BIGINT,
    deadline     BIGINT,
    depends_on   TEXT NOT NULL DEFAULT '',   -- task ids, comma separated
    status       TEXT NOT NULL,
    progress     BIGINT NOT NULL DEFAULT 0,
    evidence     TEXT NOT NULL DEFAULT '',
    version      BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    CHECK (status IN ('todo', 'in_progress', 'done', 'blocked', 'cancelled')),
    CHECK (progress BETWEEN 0 AND 100)
);
CREATE INDEX merger_task_deadline ON merger_task (merger_id, deadline);

-- +goose Down
DROP TABLE merger_task;
