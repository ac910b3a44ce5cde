-- +goose Up
-- proc_dossier_alias holds every code a dossier is found by: its own and
-- its codes in old provinces' systems. Tracking then looks a code up in one
-- index whether it is new, old or unknown, at the same cost.
INSERT INTO proc_dossier_alias (code, dossier_id) SELECT code, id FROM proc_dossier;

-- +goose Down
DELETE FROM proc_dossier_alias WHERE code IN (SELECT code FROM proc_dossier);
