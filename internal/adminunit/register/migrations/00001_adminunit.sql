-- +goose Up
-- The versioned register of administrative units. A unit is identified by its
-- level and code: codes were reused in 2025 (legacy ward 26740 was Bến Nghé,
-- ward 26740 is Sài Gòn), so the level carries the period. Times are
-- microseconds since the Unix epoch (UTC); NULL valid_from/valid_to = open.
CREATE TABLE adminunit_unit (
    level         TEXT NOT NULL,   -- province, ward, legacy-province, legacy-district, legacy-ward
    code          TEXT NOT NULL,
    name          TEXT NOT NULL,
    short_name    TEXT NOT NULL,
    type          TEXT NOT NULL,
    parent_code   TEXT NOT NULL DEFAULT '',
    province_code TEXT NOT NULL DEFAULT '',
    valid_from    BIGINT,
    valid_to      BIGINT,
    lat           DOUBLE PRECISION NOT NULL DEFAULT 0,
    lon           DOUBLE PRECISION NOT NULL DEFAULT 0,
    area_km2      DOUBLE PRECISION NOT NULL DEFAULT 0,
    population    BIGINT NOT NULL DEFAULT 0,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (level, code)
);

-- Typed successor links legacy → new, with their legal basis. basis_edited
-- marks a basis an admin wrote, which a re-import keeps.
CREATE TABLE adminunit_link (
    from_level   TEXT NOT NULL,
    from_code    TEXT NOT NULL,
    to_level     TEXT NOT NULL,
    to_code      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    basis        TEXT NOT NULL DEFAULT '',
    basis_edited BOOLEAN NOT NULL DEFAULT FALSE,
    version      BIGINT NOT NULL DEFAULT 1,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (from_level, from_code, to_level, to_code),
    CHECK (kind IN ('unchanged', 'renamed', 'merged', 'divided'))
);
CREATE INDEX adminunit_link_to ON adminunit_link (to_level, to_code);

-- generation changes with every import, basis edit and officer decision, so
-- replicas know to reload their in-memory index.
CREATE TABLE adminunit_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO adminunit_meta (key, value) VALUES ('generation', '0');

-- Addresses whose legacy ward was divided and that nothing decided: an
-- officer picks the new ward. ref is the caller's record id (may be empty).
CREATE TABLE adminunit_review (
    id          TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    ref         TEXT NOT NULL DEFAULT '',
    input       TEXT NOT NULL,
    legacy_code TEXT NOT NULL,
    street      TEXT NOT NULL DEFAULT '',
    street_key  TEXT NOT NULL DEFAULT '',
    candidates  TEXT NOT NULL,           -- new ward codes, comma separated
    status      TEXT NOT NULL,           -- pending, decided
    ward_code   TEXT NOT NULL DEFAULT '',
    rule        TEXT NOT NULL DEFAULT '',-- officer, street_rule
    decided_by  TEXT NOT NULL DEFAULT '',
    decided_at  BIGINT NOT NULL DEFAULT 0,
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    CHECK (status IN ('pending', 'decided'))
);
CREATE UNIQUE INDEX adminunit_review_record ON adminunit_review (source, ref, input);
CREATE INDEX adminunit_review_queue ON adminunit_review (status, created_at, id);
CREATE INDEX adminunit_review_street ON adminunit_review (legacy_code, street_key, status);

-- Officers' decisions remembered per street/hamlet text of a divided ward.
CREATE TABLE adminunit_street_rule (
    legacy_code TEXT NOT NULL,
    street_key  TEXT NOT NULL,
    ward_code   TEXT NOT NULL,
    decided_by  TEXT NOT NULL,
    review_id   TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (legacy_code, street_key)
);

-- +goose Down
DROP TABLE adminunit_street_rule;
DROP TABLE adminunit_review;
DROP TABLE adminunit_meta;
DROP TABLE adminunit_link;
DROP TABLE adminunit_unit;
