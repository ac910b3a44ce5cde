-- +goose Up
-- The gateway processes at work on this database, each seen every few
-- seconds: a grant's rate is shared among the live ones.
CREATE TABLE xchg_node (
    id         TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    seen_at    BIGINT NOT NULL
);

-- +goose Down
DROP TABLE xchg_node;
