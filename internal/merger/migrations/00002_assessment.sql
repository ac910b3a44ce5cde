-- +goose Up
-- The six criteria the merged province weighs candidate systems by, and the
-- weight it gives each (0 leaves a criterion out).
CREATE TABLE merger_weight (
    merger_id TEXT NOT NULL REFERENCES merger (id),
    criterion TEXT NOT NULL,
    weight    BIGINT NOT NULL,
    PRIMARY KEY (merger_id, criterion),
    CHECK (weight >= 0 AND weight <= 100)
);

-- A candidate's score (1–5) on one criterion, with the evidence for it.
CREATE TABLE merger_score (
    system_id  TEXT NOT NULL REFERENCES merger_system (id) ON DELETE CASCADE,
    criterion  TEXT NOT NULL,
    score      BIGINT NOT NULL,
    evidence   TEXT NOT NULL DEFAULT '',
    scored_by  TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (system_id, criterion),
    CHECK (score BETWEEN 1 AND 5)
);

-- What the province decided for each system; every change is kept in
-- merger_decision_history as well as in the audit trail.
CREATE TABLE merger_decision (
    system_id  TEXT PRIMARY KEY REFERENCES merger_system (id) ON DELETE CASCADE,
    outcome    TEXT NOT NULL,
    until_day  BIGINT,
    doc_number TEXT NOT NULL DEFAULT '',
    doc_date   BIGINT,
    signer     TEXT NOT NULL DEFAULT '',
    rationale  TEXT NOT NULL DEFAULT '',
    version    BIGINT NOT NULL,
    decided_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (outcome IN ('keep', 'backup', 'read_only', 'migrate_retire', 'retire'))
);

CREATE TABLE merger_decision_history (
    system_id  TEXT NOT NULL,
    version    BIGINT NOT NULL,
    outcome    TEXT NOT NULL,
    until_day  BIGINT,
    doc_number TEXT NOT NULL,
    doc_date   BIGINT,
    signer     TEXT NOT NULL,
    rationale  TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at BIGINT NOT NULL,
    PRIMARY KEY (system_id, version)
);

-- +goose Down
DROP TABLE merger_decision_history;
DROP TABLE merger_decision;
DROP TABLE merger_score;
DROP TABLE merger_weight;
