-- +goose Up
-- What the gateway needs to run apart from the pages and to report: a
-- generation every catalogue change bumps (gateway processes reload their
-- in-memory copy when it moves), health paths, client certificates,
-- the message log, the daily usage the migration board reads, and what
-- shadow calls found.
ALTER TABLE xchg_service ADD COLUMN health_path TEXT NOT NULL DEFAULT '';

CREATE TABLE xchg_meta (
    id         INTEGER PRIMARY KEY,
    generation BIGINT NOT NULL
);
INSERT INTO xchg_meta (id, generation) VALUES (1, 0);

-- Client certificates a consumer may present instead of a key (mutual TLS),
-- known by the SHA-256 of their DER form.
CREATE TABLE xchg_cert (
    id          TEXT PRIMARY KEY,
    consumer_id TEXT NOT NULL REFERENCES xchg_consumer (id),
    fingerprint TEXT NOT NULL,
    subject     TEXT NOT NULL,
    not_after   BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE UNIQUE INDEX xchg_cert_fingerprint ON xchg_cert (fingerprint);
CREATE INDEX xchg_cert_consumer ON xchg_cert (consumer_id);

-- One record per call through the gateway, written in batches.
CREATE TABLE xchg_message (
    id           TEXT PRIMARY KEY,
    at           BIGINT NOT NULL,               -- when the call arrived
    consumer_id  TEXT NOT NULL DEFAULT '',      -- empty: no valid credential
    service_code TEXT NOT NULL DEFAULT '',
    method       TEXT NOT NULL,
    path         TEXT NOT NULL,
    status       INTEGER NOT NULL,
    latency_us   BIGINT NOT NULL,
    bytes_in     BIGINT NOT NULL,
    bytes_out    BIGINT NOT NULL,
    request_id   TEXT NOT NULL,
    upstream     TEXT NOT NULL DEFAULT '',      -- primary, backup, or empty: not forwarded
    problem      TEXT NOT NULL DEFAULT ''       -- the gateway's problem code, when it answered itself
);
CREATE INDEX xchg_message_at ON xchg_message (at);
CREATE INDEX xchg_message_service ON xchg_message (service_code, at);
CREATE INDEX xchg_message_consumer ON xchg_message (consumer_id, at);
CREATE INDEX xchg_message_request ON xchg_message (request_id);

-- Calls a day per service, consumer and upstream, kept with each batch of
-- the log (and kept after the log's retention): the migration board.
CREATE TABLE xchg_usage (
    day          BIGINT NOT NULL,              -- yyyymmdd, Vietnam time
    service_code TEXT NOT NULL,
    consumer_id  TEXT NOT NULL,
    upstream     TEXT NOT NULL,
    calls        BIGINT NOT NULL,
    errors       BIGINT NOT NULL,               -- answered 5xx
    last_at      BIGINT NOT NULL,
    PRIMARY KEY (day, service_code, consumer_id, upstream)
);

-- Shadow calls: the legacy LGSP's answer was served, the new system's was
-- compared with it. Every comparison is counted; differences are kept.
CREATE TABLE xchg_shadow_day (
    day          BIGINT NOT NULL,
    service_code TEXT NOT NULL,
    compared     BIGINT NOT NULL,
    differed     BIGINT NOT NULL,
    PRIMARY KEY (day, service_code)
);
CREATE TABLE xchg_shadow_diff (
    id            TEXT PRIMARY KEY,
    at            BIGINT NOT NULL,
    service_code  TEXT NOT NULL,
    consumer_id   TEXT NOT NULL,
    method        TEXT NOT NULL,
    path          TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    legacy_status INTEGER NOT NULL,
    new_status    INTEGER NOT NULL,             -- 0: the new system could not be reached
    legacy_bytes  BIGINT NOT NULL,
    new_bytes     BIGINT NOT NULL,
    legacy_sample TEXT NOT NULL,                -- the first bytes of each answer
    new_sample    TEXT NOT NULL,
    reason        TEXT NOT NULL                 -- status, body, unreachable
);
CREATE INDEX xchg_shadow_diff_service ON xchg_shadow_diff (service_code, at);

-- +goose Down
DROP TABLE xchg_shadow_diff;
DROP TABLE xchg_shadow_day;
DROP TABLE xchg_usage;
DROP TABLE xchg_message;
DROP TABLE xchg_cert;
DROP TABLE xchg_meta;
ALTER TABLE xchg_service DROP COLUMN health_path;
