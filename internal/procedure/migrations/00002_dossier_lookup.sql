-- +goose Up
-- Officers find a dossier by the applicant's citizen ID; lists of all or of
-- finished dossiers show the newest first, within a ward or an agency.
CREATE INDEX proc_dossier_citizen ON proc_dossier (citizen_id);
CREATE INDEX proc_dossier_ward_received ON proc_dossier (ward_code, received_at);
CREATE INDEX proc_dossier_agency_received ON proc_dossier (agency_id, received_at);

-- +goose Down
DROP INDEX proc_dossier_agency_received;
DROP INDEX proc_dossier_ward_received;
DROP INDEX proc_dossier_citizen;
