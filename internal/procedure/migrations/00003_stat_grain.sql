-- +goose Up
-- The statistics in two summaries small enough to read whole at any size:
-- per month, agency, ward and channel (every scope and most breakdowns),
-- and per month, procedure and channel (the breakdown by procedure). One
-- summary with the procedure and the ward in its key grew as large as the
-- dossiers themselves.
CREATE TABLE proc_stat_unit (
    month      BIGINT NOT NULL,
    agency_id  TEXT NOT NULL,
    ward_code  TEXT NOT NULL,
    channel    TEXT NOT NULL,
    received   BIGINT NOT NULL DEFAULT 0,
    finished   BIGINT NOT NULL DEFAULT 0,
    on_time    BIGINT NOT NULL DEFAULT 0,
    late_days  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (month, agency_id, ward_code, channel)
);
CREATE TABLE proc_stat_procedure (
    month        BIGINT NOT NULL,
    procedure_id TEXT NOT NULL,
    channel      TEXT NOT NULL,
    received     BIGINT NOT NULL DEFAULT 0,
    finished     BIGINT NOT NULL DEFAULT 0,
    on_time      BIGINT NOT NULL DEFAULT 0,
    late_days    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (month, procedure_id, channel)
);
INSERT INTO proc_stat_unit (month, agency_id, ward_code, channel, received, finished, on_time, late_days)
SELECT month, agency_id, ward_code, channel, SUM(received), SUM(finished), SUM(on_time), SUM(late_days)
FROM proc_stat GROUP BY month, agency_id, ward_code, channel;
-- Late days in the old summary were charged to the holding agencies; per
-- procedure they count once, as the dossier's.
INSERT INTO proc_stat_procedure (month, procedure_id, channel, received, finished, on_time, late_days)
SELECT month, procedure_id, channel, SUM(received), SUM(finished), SUM(on_time), SUM(late_days)
FROM proc_stat GROUP BY month, procedure_id, channel;
DROP TABLE proc_stat;

-- +goose Down
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
DROP TABLE proc_stat_procedure;
DROP TABLE proc_stat_unit;
