-- +goose Up
-- Spreadsheets converted on the convert page, kept a day for their owner to
-- download. In the database, not on a replica's disk, so any replica serves
-- the download. BYTEA is PostgreSQL's binary type; SQLite stores the bytes as
-- a BLOB under any declared type.
CREATE TABLE adminunit_export (
    id           TEXT PRIMARY KEY,
    owner        TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    format       TEXT NOT NULL,
    content      BYTEA NOT NULL,
    rows_total   BIGINT NOT NULL,
    exact        BIGINT NOT NULL,
    split        BIGINT NOT NULL,
    ambiguous    BIGINT NOT NULL,
    not_found    BIGINT NOT NULL,
    queued       BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX adminunit_export_created ON adminunit_export (created_at);

-- +goose Down
DROP TABLE adminunit_export;
