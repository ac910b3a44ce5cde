package procedure

import (
	"context"
	"slices"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
)

// Reassignment is what moving an old agency's work to its successor would
// move.
type Reassignment struct {
	From         Agency
	Targets      []Agency // who the register says is responsible now
	Procedures   int      // procedures it is responsible for
	OpenDossiers int      // dossiers it holds that are not finished
	Sample       []Dossier
}

// PreviewReassign shows what ReassignAgency would move from an agency, and
// to whom the register says its work went.
func (s *Service) PreviewReassign(ctx context.Context, fromID string) (Reassignment, error) {
	if err := s.provinceWide(ctx); err != nil {
		return Reassignment{}, err
	}
	from, err := s.agencies.Agency(ctx, fromID)
	if err != nil {
		return Reassignment{}, err
	}
	if from.Current {
		// A current agency's work is its own; moving it is a transfer.
		return Reassignment{}, apperr.InvalidFields(map[string]string{"from": "procedure.reassign_not_former"})
	}
	r := Reassignment{From: from}
	if r.Targets, err = s.agencies.ResponsibleNow(ctx, fromID); err != nil {
		return r, err
	}
	r.Targets = slices.DeleteFunc(r.Targets, func(a Agency) bool { return a.ID == fromID })
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM proc_procedure WHERE agency_id = $1`, fromID).Scan(&r.Procedures); err != nil {
		return r, err
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM proc_dossier WHERE agency_id = $1 AND `+openSQL, fromID).Scan(&r.OpenDossiers); err != nil {
		return r, err
	}
	r.Sample, err = s.Dossiers(ctx, DossierFilter{AgencyID: fromID, State: "open", Limit: 20})
	return r, err
}

const openSQL = `status IN ('received', 'in_progress', 'supplement_requested')`

// provinceWide refuses a caller scoped to a ward or an agency: moving work
// between agencies and wards is the whole province's business.
func (s *Service) provinceWide(ctx context.Context) error {
	sc, err := s.scopeOf(ctx)
	if err != nil {
		return err
	}
	if sc.ward != "" || sc.agency != "" || sc.none {
		return apperr.New(apperr.Forbidden, "procedure.reassign_scope")
	}
	return nil
}

// ReassignAgency moves an old agency's procedures and open dossiers to
// toID, in one audited transaction. toID must be one the register names as
// responsible now, unless the register names none; then any agency of the
// merged province. Each moved dossier gets a step, so its clock runs on
// with its new holder and the delay is charged to whoever held it.
func (s *Service) ReassignAgency(ctx context.Context, fromID, toID string) (procedures, dossiers int, err error) {
	r, err := s.PreviewReassign(ctx, fromID)
	if err != nil {
		return 0, 0, err
	}
	to, err := s.agencies.Agency(ctx, toID)
	if apperr.Is(err, apperr.NotFound) {
		return 0, 0, apperr.InvalidFields(map[string]string{"to": "procedure.agency_unknown"})
	}
	if err != nil {
		return 0, 0, err
	}
	switch {
	case toID == fromID:
		return 0, 0, apperr.InvalidFields(map[string]string{"to": "procedure.transfer_same"})
	case len(r.Targets) > 0 && !slices.ContainsFunc(r.Targets, func(a Agency) bool { return a.ID == toID }):
		return 0, 0, apperr.InvalidFields(map[string]string{"to": "procedure.reassign_not_successor"})
	case !to.Current:
		return 0, 0, apperr.InvalidFields(map[string]string{"to": "procedure.reassign_not_current"})
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE proc_procedure SET agency_id = $1, version = version + 1, updated_at = $2 WHERE agency_id = $3`,
			toID, db.Micros(tx.Now), fromID)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		procedures = int(n)
		dossiers, err = moveOpen(ctx, tx, "agency_id = $1", []any{fromID}, toID, "", "Chuyển cho cơ quan kế thừa: "+to.Name)
		if err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "procedure.reassign", ObjectType: "agency", ObjectID: fromID,
			Details: map[string]any{"from": r.From.Name, "to": to.Name, "to_id": toID, "procedures": procedures, "dossiers": dossiers}})
		return err
	})
	return procedures, dossiers, err
}

// moveOpen moves the open dossiers matching where to a new holder (toAgency)
// or ward (toWard), adding a reassign step to each. A dossier finished by an
// officer meanwhile is left where it is: each update checks it is still
// open and still the version read.
func moveOpen(ctx context.Context, tx *db.Tx, where string, args []any, toAgency, toWard, note string) (int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, agency_id, status, version FROM proc_dossier WHERE `+where+` AND `+openSQL, args...)
	if err != nil {
		return 0, err
	}
	type open struct {
		id, agency, status string
		version            int64
	}
	var list []open
	for rows.Next() {
		var o open
		if err := rows.Scan(&o.id, &o.agency, &o.status, &o.version); err != nil {
			rows.Close()
			return 0, err
		}
		list = append(list, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	moved := 0
	for _, o := range list {
		agency := o.agency
		if toAgency != "" {
			agency = toAgency
		}
		res, err := tx.ExecContext(ctx, `UPDATE proc_dossier SET agency_id = $1, ward_code = CASE WHEN $2 = '' THEN ward_code ELSE $2 END,
version = version + 1, updated_at = $3 WHERE id = $4 AND version = $5 AND `+openSQL, agency, toWard, db.Micros(tx.Now), o.id, o.version)
		if err != nil {
			return 0, err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			continue // acted on meanwhile: it stays with whoever finished it
		}
		var seq int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM proc_step WHERE dossier_id = $1`, o.id).Scan(&seq); err != nil {
			return 0, err
		}
		if err := insertStep(ctx, tx, o.id, seq+1, Step{Action: ActReassign, Status: Status(o.status), AgencyID: agency, At: tx.Now, Note: note}); err != nil {
			return 0, err
		}
		moved++
	}
	return moved, nil
}

// ReassignWard moves the open dossiers of an old ward code to the current
// ward that took it over, with a step on each, in one audited transaction.
func (s *Service) ReassignWard(ctx context.Context, fromWard, toWard string) (int, error) {
	if err := s.provinceWide(ctx); err != nil {
		return 0, err
	}
	if fromWard == "" || toWard == "" || fromWard == toWard {
		return 0, apperr.InvalidFields(map[string]string{"to": "procedure.ward_unknown"})
	}
	if s.addresses != nil {
		if n := s.addresses.WardName(ctx, fromWard); n != "" && n != fromWard {
			// A current ward keeps its dossiers: only an old code moves.
			return 0, apperr.InvalidFields(map[string]string{"from": "procedure.reassign_ward_current"})
		}
	}
	if s.addresses != nil && s.addresses.WardName(ctx, toWard) == "" {
		return 0, apperr.InvalidFields(map[string]string{"to": "procedure.ward_unknown"})
	}
	var n int
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if n, err = moveOpen(ctx, tx, "ward_code = $1", []any{fromWard}, "", toWard, "Chuyển về phường, xã mới: "+toWard); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "procedure.reassign_ward", ObjectType: "ward", ObjectID: fromWard,
			Details: map[string]any{"to": toWard, "dossiers": n}})
		return err
	})
	return n, err
}
