-- +goose Up
-- A merger: the new province and the old provinces it was formed from.
CREATE TABLE merger (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    province_code     TEXT NOT NULL,       -- the new province
    effective_on      BIGINT,              -- microseconds; the day it took effect
    version           BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE UNIQUE INDEX merger_province ON merger (province_code);

CREATE TABLE merger_source (
    merger_id     TEXT NOT NULL REFERENCES merger (id),
    province_code TEXT NOT NULL,           -- an old province
    name          TEXT NOT NULL,
    position      BIGINT NOT NULL,         -- the order the coordinator gave
    PRIMARY KEY (merger_id, province_code)
);

-- One old province's instance of a shared system.
CREATE TABLE merger_system (
    id              TEXT PRIMARY KEY,
    merger_id       TEXT NOT NULL REFERENCES merger (id),
    category        TEXT NOT NULL,
    custom_category TEXT NOT NULL DEFAULT '',
    province_code   TEXT NOT NULL,         -- the old province running it
    name            TEXT NOT NULL,
    vendor          TEXT NOT NULL DEFAULT '',
    technology      TEXT NOT NULL DEFAULT '',
    deployed_year   BIGINT NOT NULL DEFAULT 0,
    investment      TEXT NOT NULL DEFAULT '',
    users           BIGINT NOT NULL DEFAULT 0,
    db_engine       TEXT NOT NULL DEFAULT '',
    db_size_mb      BIGINT NOT NULL DEFAULT 0,
    datasets        BIGINT NOT NULL DEFAULT 0,
    fields          BIGINT NOT NULL DEFAULT 0,
    records         BIGINT NOT NULL DEFAULT 0,
    functions       TEXT NOT NULL DEFAULT '',  -- the checked functions, one per line
    integrations    TEXT NOT NULL DEFAULT '',
    contract_end    BIGINT,
    notes           TEXT NOT NULL DEFAULT '',
    version         BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    CHECK (investment IN ('', 'purchased', 'leased', 'self_built', 'other')),
    FOREIGN KEY (merger_id, province_code) REFERENCES merger_source (merger_id, province_code)
);
CREATE INDEX merger_system_category ON merger_system (merger_id, category);

-- +goose Down
DROP TABLE merger_system;
DROP TABLE merger_source;
DROP TABLE merger;
