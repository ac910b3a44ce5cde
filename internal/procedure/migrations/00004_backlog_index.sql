-- +goose Up
-- The open dossiers are a few percent of all of them: the backlog counts
-- (home tiles, lists, statistics) read this index alone.
CREATE INDEX proc_dossier_backlog ON proc_dossier (agency_id, ward_code, due_day, paused_at)
WHERE status IN ('received', 'in_progress', 'supplement_requested');

-- +goose Down
DROP INDEX proc_dossier_backlog;
