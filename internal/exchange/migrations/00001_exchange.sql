-- +goose Up
-- The exchange gateway's (LGSP) catalogue: services reachable at
-- /gw/{code}/…, the systems that call them, their keys and their grants.
CREATE TABLE xchg_service (
    id              TEXT PRIMARY KEY,
    code            TEXT NOT NULL,              -- path segment: /gw/{code}/…
    name            TEXT NOT NULL,
    owner_agency_id TEXT NOT NULL DEFAULT '',
    version_label   TEXT NOT NULL DEFAULT '',
    primary_url     TEXT NOT NULL,
    backup_url      TEXT NOT NULL DEFAULT '',   -- e.g. the other old province's LGSP
    timeout_ms      BIGINT NOT NULL,
    max_body_bytes  BIGINT NOT NULL,
    docs_url        TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'active',
    cutover         TEXT NOT NULL DEFAULT 'new',
    version         BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    CHECK (status IN ('active', 'disabled')),
    CHECK (cutover IN ('old', 'shadow', 'new'))
);
CREATE UNIQUE INDEX xchg_service_code ON xchg_service (code);

-- Calling systems.
CREATE TABLE xchg_consumer (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    owner_agency_id TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'active',
    version         BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    CHECK (status IN ('active', 'disabled'))
);

-- API keys: only SHA-256 of the key is kept; prefix lets people tell keys apart.
CREATE TABLE xchg_key (
    id          TEXT PRIMARY KEY,
    consumer_id TEXT NOT NULL REFERENCES xchg_consumer (id),
    prefix      TEXT NOT NULL,
    hash        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT,                         -- set on the old key when rotated with overlap
    revoked_at  BIGINT
);
CREATE UNIQUE INDEX xchg_key_hash ON xchg_key (hash);
CREATE INDEX xchg_key_consumer ON xchg_key (consumer_id);

-- What a consumer may call.
CREATE TABLE xchg_grant (
    consumer_id     TEXT NOT NULL REFERENCES xchg_consumer (id),
    service_id      TEXT NOT NULL REFERENCES xchg_service (id),
    methods         TEXT NOT NULL,              -- "GET,POST"
    rate_per_minute BIGINT NOT NULL DEFAULT 0,  -- 0: no limit
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (consumer_id, service_id)
);
CREATE INDEX xchg_grant_service ON xchg_grant (service_id);

-- +goose Down
DROP TABLE xchg_grant;
DROP TABLE xchg_key;
DROP TABLE xchg_consumer;
DROP TABLE xchg_service;
