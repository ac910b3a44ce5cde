-- +goose Up
-- The catalogue of administrative procedures (thủ tục hành chính).
CREATE TABLE proc_procedure (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL,            -- national code, 1.001234.000.00.00.H01
    name        TEXT NOT NULL,
    name_fold   TEXT NOT NULL,            -- name and code folded, for search without diacritics
    field       TEXT NOT NULL DEFAULT '', -- lĩnh vực
    level       TEXT NOT NULL,            -- province | commune
    agency_id   TEXT NOT NULL DEFAULT '', -- the responsible agency, in the agency register
    days        BIGINT NOT NULL,          -- processing time in working days
    fee         TEXT NOT NULL DEFAULT '',
    online      TEXT NOT NULL,            -- full | partial | offline
    papers      TEXT NOT NULL DEFAULT '', -- required papers, one per line
    active      BIGINT NOT NULL DEFAULT 1,
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    CHECK (level IN ('province', 'commune')),
    CHECK (online IN ('full', 'partial', 'offline')),
    CHECK (days BETWEEN 0 AND 365)
);
CREATE UNIQUE INDEX proc_procedure_code ON proc_procedure (code);
CREATE INDEX proc_procedure_agency ON proc_procedure (agency_id);

-- Days an admin set apart from the default calendar: extra days off
-- (announced bridge days, new holidays) and weekend days worked.
CREATE TABLE proc_calendar_day (
    day        BIGINT PRIMARY KEY,        -- days since 1970-01-01 in Vietnam
    kind       TEXT NOT NULL,             -- off | work
    note       TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL,
    CHECK (kind IN ('off', 'work'))
);

-- Dossiers (hồ sơ): one row each, with its clock.
CREATE TABLE proc_dossier (
    id             TEXT PRIMARY KEY,
    code           TEXT NOT NULL,            -- public tracking code
    procedure_id   TEXT NOT NULL REFERENCES proc_procedure (id),
    agency_id      TEXT NOT NULL,            -- the agency holding it now
    ward_code      TEXT NOT NULL DEFAULT '', -- the current ward it belongs to, '' for none
    channel        TEXT NOT NULL,            -- desk | online | post
    applicant      TEXT NOT NULL,
    citizen_id     TEXT NOT NULL DEFAULT '',
    phone          TEXT NOT NULL DEFAULT '',
    address        TEXT NOT NULL DEFAULT '', -- as given
    address_ward   TEXT NOT NULL DEFAULT '', -- the current ward the address is in, when it was converted
    papers         TEXT NOT NULL DEFAULT '', -- papers received, one per line
    status         TEXT NOT NULL,
    days           BIGINT NOT NULL,          -- working days allowed, from the procedure at receipt
    received_at    BIGINT NOT NULL,
    due_day        BIGINT NOT NULL,          -- the due day (Vietnam day number); the earliest one while paused
    paused_at      BIGINT,                   -- a supplement is awaited since
    paused_days    BIGINT NOT NULL DEFAULT 0,-- working days closed pauses added
    finished_at    BIGINT,                   -- approved or rejected
    returned_at    BIGINT,
    late_days      BIGINT NOT NULL DEFAULT 0,-- working days late, once finished
    version        BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    CHECK (channel IN ('desk', 'online', 'post')),
    CHECK (status IN ('received', 'in_progress', 'supplement_requested', 'approved', 'rejected', 'returned'))
);
CREATE UNIQUE INDEX proc_dossier_code ON proc_dossier (code);
CREATE INDEX proc_dossier_agency ON proc_dossier (agency_id, status, due_day);
CREATE INDEX proc_dossier_ward ON proc_dossier (ward_code, status, due_day);
CREATE INDEX proc_dossier_open ON proc_dossier (status, due_day);
CREATE INDEX proc_dossier_received ON proc_dossier (received_at);

-- Other codes a dossier is found by: its codes in an old province's system.
CREATE TABLE proc_dossier_alias (
    code       TEXT PRIMARY KEY,
    dossier_id TEXT NOT NULL REFERENCES proc_dossier (id)
);

-- Every step of a dossier: who, when, what, and who held it after.
CREATE TABLE proc_step (
    dossier_id TEXT NOT NULL REFERENCES proc_dossier (id),
    seq        BIGINT NOT NULL,
    action     TEXT NOT NULL,
    status     TEXT NOT NULL,              -- the status after the step
    agency_id  TEXT NOT NULL,              -- the holder after the step
    actor      TEXT NOT NULL,
    at         BIGINT NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (dossier_id, seq)
);

-- Statistics kept with every receipt and finish, in the same transaction:
-- per month (yyyymm in Vietnam), agency, ward, procedure and channel. A
-- dossier is received once (by the agency that received it) and finished
-- once (by the agency that finished it); late days go to the agencies that
-- held it past its due day.
CREATE TABLE proc_stat (
    month        BIGINT NOT NULL,
    agency_id    TEXT NOT NULL,
    ward_code    TEXT NOT NULL,
    procedure_id TEXT NOT NULL,
    channel      TEXT NOT NULL,
    received     BIGINT NOT NULL DEFAULT 0,
    finished     BIGINT NOT NULL DEFAULT 0,
    on_time      BIGINT NOT NULL DEFAULT 0,
    late_days    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (month, agency_id, ward_code, procedure_id, channel)
);

-- +goose Down
DROP TABLE proc_stat;
DROP TABLE proc_step;
DROP TABLE proc_dossier_alias;
DROP TABLE proc_dossier;
DROP TABLE proc_calendar_day;
DROP TABLE proc_procedure;
