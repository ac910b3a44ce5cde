-- +goose Up
-- Other names units go by: older spellings, names before a rename. The
-- converter reads addresses written with them.
CREATE TABLE adminunit_alias (
    level TEXT NOT NULL,
    code  TEXT NOT NULL,
    name  TEXT NOT NULL,
    PRIMARY KEY (level, code, name)
);

-- +goose Down
DROP TABLE adminunit_alias;
