-- +goose Up
CREATE TABLE things (
    id    TEXT PRIMARY KEY,
    name  TEXT NOT NULL UNIQUE,
    at    BIGINT NOT NULL,
    n     BIGINT NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE things;
