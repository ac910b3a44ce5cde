package merger

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/reqctx"
)

// Criterion is one of the six criteria candidate systems are compared by.
type Criterion string

// The six criteria of the 2025 reviews.
const (
	CritFunctions  Criterion = "functions"  // chức năng, tính năng
	CritTechnology Criterion = "technology" // nền tảng công nghệ
	CritDeployment Criterion = "deployment" // thời gian triển khai
	CritInvestment Criterion = "investment" // hình thức đầu tư
	CritUsers      Criterion = "users"      // số lượng người dùng
	CritDatabase   Criterion = "database"   // cơ sở dữ liệu
)

// Criteria lists them in display order.
var Criteria = []Criterion{CritFunctions, CritTechnology, CritDeployment, CritInvestment, CritUsers, CritDatabase}

// Weights returns a merger's weight per criterion; a criterion nobody
// weighed counts 1, so an unweighted comparison is a plain average.
func (s *Service) Weights(ctx context.Context, mergerID string) (map[Criterion]int, error) {
	w := map[Criterion]int{}
	for _, c := range Criteria {
		w[c] = 1
	}
	rows, err := s.db.QueryContext(ctx, `SELECT criterion, weight FROM merger_weight WHERE merger_id = $1`, mergerID)
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		var v int
		if err := rows.Scan(&c, &v); err != nil {
			return nil, err
		}
		w[Criterion(c)] = v
	}
	return w, rows.Err()
}

// SetWeights records a merger's weights (0–100 each, not all 0).
func (s *Service) SetWeights(ctx context.Context, mergerID string, w map[Criterion]int) error {
	if _, err := s.Merger(ctx, mergerID); err != nil {
		return err
	}
	f := map[string]string{}
	sum := 0
	for c, v := range w {
		if !slices.Contains(Criteria, c) {
			f["weights"] = "merger.criterion_invalid"
		} else if v < 0 || v > 100 {
			f[string(c)] = "merger.weight_invalid"
		}
		sum += v
	}
	if sum == 0 && len(f) == 0 {
		f["weights"] = "merger.weights_all_zero"
	}
	if len(f) > 0 {
		return apperr.InvalidFields(f)
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		details := map[string]any{}
		for c, v := range w {
			if _, err := tx.ExecContext(ctx, `INSERT INTO merger_weight (merger_id, criterion, weight) VALUES ($1, $2, $3)
ON CONFLICT (merger_id, criterion) DO UPDATE SET weight = excluded.weight`, mergerID, string(c), v); err != nil {
				return err
			}
			details[string(c)] = v
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "merger.weights", ObjectType: "merger", ObjectID: mergerID, Details: details})
		return err
	})
}

// Score is a candidate's score on one criterion.
type Score struct {
	Score     int
	Evidence  string
	ScoredBy  string
	UpdatedAt time.Time
}

// SetScore records a system's score (1–5) on a criterion with its evidence.
func (s *Service) SetScore(ctx context.Context, systemID string, c Criterion, score int, evidence string) error {
	evidence = strings.TrimSpace(evidence)
	f := map[string]string{}
	if !slices.Contains(Criteria, c) {
		f["criterion"] = "merger.criterion_invalid"
	}
	if score < 1 || score > 5 {
		f["score"] = "merger.score_invalid"
	}
	if utf8.RuneCountInString(evidence) > 2000 {
		f["evidence"] = "merger.text_too_long"
	}
	if len(f) > 0 {
		return apperr.InvalidFields(f)
	}
	if _, err := s.System(ctx, systemID); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var before sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT score FROM merger_score WHERE system_id = $1 AND criterion = $2`, systemID, string(c)).Scan(&before)
		if err != nil && err != sql.ErrNoRows {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO merger_score (system_id, criterion, score, evidence, scored_by, updated_at)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (system_id, criterion) DO UPDATE SET score = excluded.score,
evidence = excluded.evidence, scored_by = excluded.scored_by, updated_at = excluded.updated_at`,
			systemID, string(c), score, evidence, reqctx.Actor(ctx), db.Micros(tx.Now)); err != nil {
			return err
		}
		details := map[string]any{"criterion": string(c), "score": score}
		if before.Valid {
			details["from"] = before.Int64
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "merger.score", ObjectType: "merger_system", ObjectID: systemID, Details: details})
		return err
	})
}

// Candidate is a system in a comparison.
type Candidate struct {
	System  System
	Scores  map[Criterion]Score
	Missing []Criterion // weighted criteria without a score
	Total   float64     // weighted average over the scored, weighted criteria
}

// Comparison is the side-by-side of a category's candidates.
type Comparison struct {
	Category   Category
	Weights    map[Criterion]int
	Candidates []Candidate // best total first
	// Recommended is the candidate with the highest total, when there is
	// exactly one and every weighted criterion of every candidate is scored;
	// otherwise Tie or Incomplete says why there is none.
	Recommended string
	Tie         bool
	Incomplete  bool
}

// Compare puts a category's candidate systems side by side with their
// weighted totals, flagging ties and missing scores rather than hiding them.
func (s *Service) Compare(ctx context.Context, mergerID string, cat Category) (Comparison, error) {
	cmp := Comparison{Category: cat}
	systems, err := s.Systems(ctx, mergerID, cat)
	if err != nil {
		return cmp, err
	}
	if cmp.Weights, err = s.Weights(ctx, mergerID); err != nil {
		return cmp, err
	}
	for _, x := range systems {
		c := Candidate{System: x, Scores: map[Criterion]Score{}}
		rows, err := s.db.QueryContext(ctx, `SELECT criterion, score, evidence, scored_by, updated_at FROM merger_score WHERE system_id = $1`, x.ID)
		if err != nil {
			return cmp, err
		}
		for rows.Next() {
			var crit string
			var sc Score
			var at int64
			if err := rows.Scan(&crit, &sc.Score, &sc.Evidence, &sc.ScoredBy, &at); err != nil {
				rows.Close()
				return cmp, err
			}
			sc.UpdatedAt = db.FromMicros(at)
			c.Scores[Criterion(crit)] = sc
		}
		rows.Close()
		var sum, weights int
		for _, k := range Criteria {
			w := cmp.Weights[k]
			if w == 0 {
				continue
			}
			sc, ok := c.Scores[k]
			if !ok {
				c.Missing = append(c.Missing, k)
				continue
			}
			sum += w * sc.Score
			weights += w
		}
		if weights > 0 {
			c.Total = float64(sum) / float64(weights)
		}
		if len(c.Missing) > 0 {
			cmp.Incomplete = true
		}
		cmp.Candidates = append(cmp.Candidates, c)
	}
	slices.SortStableFunc(cmp.Candidates, func(a, b Candidate) int {
		switch {
		case a.Total > b.Total:
			return -1
		case a.Total < b.Total:
			return 1
		}
		return 0
	})
	if n := len(cmp.Candidates); n > 0 {
		cmp.Tie = n > 1 && cmp.Candidates[0].Total == cmp.Candidates[1].Total
		if !cmp.Tie && !cmp.Incomplete {
			cmp.Recommended = cmp.Candidates[0].System.ID
		}
	}
	return cmp, nil
}

// Outcome is what the province decided for a system.
type Outcome string

// The outcomes of a decision.
const (
	Keep          Outcome = "keep"           // the shared system for everyone
	Backup        Outcome = "backup"         // kept as backup until a date
	ReadOnly      Outcome = "read_only"      // kept for lookup only
	MigrateRetire Outcome = "migrate_retire" // its data moves, then it is retired
	Retire        Outcome = "retire"
)

// Outcomes lists them in display order.
var Outcomes = []Outcome{Keep, Backup, ReadOnly, MigrateRetire, Retire}

// Decision is what the province decided for a system, with its basis.
type Decision struct {
	SystemID  string
	Outcome   Outcome
	Until     time.Time // for Backup: until when
	DocNumber string    // the decision document's number
	DocDate   time.Time
	Signer    string
	Rationale string
	Version   int64
	DecidedBy string
	DecidedAt time.Time
}

const decisionCols = `system_id, outcome, until_day, doc_number, doc_date, signer, rationale, version, decided_by, updated_at`

func scanDecision(sc interface{ Scan(...any) error }) (Decision, error) {
	var d Decision
	var outcome string
	var until, docDate sql.NullInt64
	var at int64
	err := sc.Scan(&d.SystemID, &outcome, &until, &d.DocNumber, &docDate, &d.Signer, &d.Rationale, &d.Version, &d.DecidedBy, &at)
	d.Outcome, d.Until, d.DocDate, d.DecidedAt = Outcome(outcome), db.FromNullMicros(until), db.FromNullMicros(docDate), db.FromMicros(at)
	return d, err
}

// Decision returns the decision on a system; NotFound while undecided.
func (s *Service) Decision(ctx context.Context, systemID string) (Decision, error) {
	d, err := scanDecision(s.db.QueryRowContext(ctx, `SELECT `+decisionCols+` FROM merger_decision WHERE system_id = $1`, systemID))
	if err != nil {
		return d, db.NotFoundIfNoRows(err, "merger.decision_not_found")
	}
	return d, nil
}

// Decide records (or changes) the decision on a system. version is the
// decision's version as read, 0 for a first decision; a decision changed by
// someone else meanwhile is refused. Every version is kept in the history.
func (s *Service) Decide(ctx context.Context, in Decision, version int64) (Decision, error) {
	f := map[string]string{}
	if !slices.Contains(Outcomes, in.Outcome) {
		f["outcome"] = "merger.outcome_invalid"
	}
	if in.Outcome == Backup && in.Until.IsZero() {
		f["until"] = "merger.backup_needs_until"
	}
	if in.Outcome != Backup {
		in.Until = time.Time{}
	}
	var ok bool
	for field, p := range map[string]*string{"doc_number": &in.DocNumber, "signer": &in.Signer} {
		if *p, ok = text(*p, 200); !ok {
			f[field] = "merger.text_too_long"
		}
	}
	if in.Rationale, ok = text(in.Rationale, 4000); !ok {
		f["rationale"] = "merger.text_too_long"
	}
	if len(f) > 0 {
		return Decision{}, apperr.InvalidFields(f)
	}
	if _, err := s.System(ctx, in.SystemID); err != nil {
		return Decision{}, err
	}
	in.DecidedBy = reqctx.Actor(ctx)
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		in.DecidedAt = tx.Now
		var res sql.Result
		var err error
		if version == 0 {
			in.Version = 1
			res, err = tx.ExecContext(ctx, `INSERT INTO merger_decision (`+decisionCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9)
ON CONFLICT (system_id) DO NOTHING`, in.SystemID, string(in.Outcome), db.NullMicros(in.Until), in.DocNumber, db.NullMicros(in.DocDate),
				in.Signer, in.Rationale, in.DecidedBy, db.Micros(tx.Now))
		} else {
			in.Version = version + 1
			res, err = tx.ExecContext(ctx, `UPDATE merger_decision SET outcome = $1, until_day = $2, doc_number = $3, doc_date = $4,
signer = $5, rationale = $6, version = version + 1, decided_by = $7, updated_at = $8 WHERE system_id = $9 AND version = $10`,
				string(in.Outcome), db.NullMicros(in.Until), in.DocNumber, db.NullMicros(in.DocDate), in.Signer, in.Rationale,
				in.DecidedBy, db.Micros(tx.Now), in.SystemID, version)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.Conflict, "merger.decision_changed")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO merger_decision_history (system_id, version, outcome, until_day, doc_number,
doc_date, signer, rationale, decided_by, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			in.SystemID, in.Version, string(in.Outcome), db.NullMicros(in.Until), in.DocNumber, db.NullMicros(in.DocDate),
			in.Signer, in.Rationale, in.DecidedBy, db.Micros(tx.Now)); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "merger.decide", ObjectType: "merger_system", ObjectID: in.SystemID,
			Details: map[string]any{"outcome": string(in.Outcome), "doc_number": in.DocNumber, "version": in.Version}})
		return err
	})
	return in, err
}

// History returns every version of the decision on a system, newest first.
func (s *Service) History(ctx context.Context, systemID string) ([]Decision, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT system_id, outcome, until_day, doc_number, doc_date, signer, rationale, version,
decided_by, decided_at FROM merger_decision_history WHERE system_id = $1 ORDER BY version DESC`, systemID)
	if err != nil {
		return nil, fmt.Errorf("decision history: %w", err)
	}
	defer rows.Close()
	var out []Decision
	for rows.Next() {
		d, err := scanDecision(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
