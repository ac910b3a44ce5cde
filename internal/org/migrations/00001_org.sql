-- +goose Up
-- Agencies of the old provinces and of the merged one. period tells which
-- side of the merger an agency belongs to; an agency of the new province may
-- keep the identifier code it had before (old_code).
CREATE TABLE org_agency (
    id            TEXT PRIMARY KEY,
    code          TEXT NOT NULL DEFAULT '',   -- electronic identifier code (mã định danh điện tử)
    old_code      TEXT NOT NULL DEFAULT '',
    name          TEXT NOT NULL,
    name_fold     TEXT NOT NULL,              -- for search without diacritics
    kind          TEXT NOT NULL,
    parent_id     TEXT REFERENCES org_agency (id),
    period        TEXT NOT NULL,              -- legacy, current
    province_code TEXT NOT NULL DEFAULT '',   -- the old province (legacy) or the new one (current)
    ward_code     TEXT NOT NULL DEFAULT '',   -- for ward People's Committees
    valid_from    BIGINT,
    valid_to      BIGINT,
    version       BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    CHECK (period IN ('legacy', 'current'))
);
CREATE UNIQUE INDEX org_agency_code ON org_agency (code) WHERE code <> '';
CREATE INDEX org_agency_parent ON org_agency (parent_id);
CREATE INDEX org_agency_period ON org_agency (period, province_code);

-- Typed successor links old → new: what became of an agency, and who took
-- over its tasks.
CREATE TABLE org_link (
    from_id    TEXT NOT NULL REFERENCES org_agency (id),
    to_id      TEXT NOT NULL REFERENCES org_agency (id),
    kind       TEXT NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (from_id, to_id),
    CHECK (kind IN ('unchanged', 'renamed', 'merged_into', 'split_into', 'dissolved')),
    CHECK (from_id <> to_id)
);
CREATE INDEX org_link_to ON org_link (to_id);

-- +goose Down
DROP TABLE org_link;
DROP TABLE org_agency;
