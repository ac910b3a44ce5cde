package register

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"time"

	"hopnhat/internal/adminunit"
	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/reqctx"
)

// ConvertOptions tune a batch conversion.
type ConvertOptions struct {
	Form adminunit.Form
	// Review queues every address whose divided legacy ward nothing decided,
	// under Source and the caller's Refs (one per address, optional).
	Review bool
	Source string
	Refs   []string
}

// Conversion is one converted address and, when it was queued, its review.
type Conversion struct {
	adminunit.Result
	ReviewID string
}

// Convert converts up to MaxBatch addresses; with Review, the undecided
// split ones go to the review queue in one transaction.
func (s *Service) Convert(ctx context.Context, addrs []string, opt ConvertOptions) ([]Conversion, error) {
	switch {
	case len(addrs) == 0:
		return nil, apperr.InvalidFields(map[string]string{"addresses": "adminunit.convert.empty"})
	case len(addrs) > MaxBatch:
		return nil, apperr.New(apperr.Invalid, "adminunit.convert.too_many", MaxBatch)
	case len(opt.Refs) > 0 && len(opt.Refs) != len(addrs):
		return nil, apperr.InvalidFields(map[string]string{"refs": "adminunit.convert.refs_mismatch"})
	case opt.Form != adminunit.FormAuto && opt.Form != adminunit.FormLegacy && opt.Form != adminunit.FormNew:
		return nil, apperr.InvalidFields(map[string]string{"form": "adminunit.convert.bad_form"})
	}
	idx, err := s.Index(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Conversion, len(addrs))
	var queue []int
	for i, a := range addrs {
		out[i].Result = idx.Convert(a, adminunit.Options{Form: opt.Form})
		if opt.Review && out[i].Status == adminunit.StatusSplit && out[i].WardCode == "" {
			queue = append(queue, i)
		}
	}
	if len(queue) == 0 {
		return out, nil
	}
	source := strings.TrimSpace(opt.Source)
	if source == "" {
		source = "api"
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, i := range queue {
			ref := ""
			if len(opt.Refs) > 0 {
				ref = opt.Refs[i]
			}
			id, _, err := s.enqueue(ctx, tx, source, ref, out[i].Result)
			if err != nil {
				return err
			}
			out[i].ReviewID = id
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "adminunit.review.queue", ObjectType: "adminunit_review",
			ObjectID: source, Details: map[string]any{"count": len(queue)}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

const insertReview = `INSERT INTO adminunit_review (id, source, ref, input, legacy_code, street, street_key, candidates,
status, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10)
ON CONFLICT (source, ref, input) DO NOTHING`

// cleanText makes s storable on both engines: valid UTF-8 and no NUL, which
// PostgreSQL refuses and a spreadsheet cell can hold.
func cleanText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// enqueue adds one review; the same record (source, ref, input) queued again
// returns the existing review's id, and added false.
func (s *Service) enqueue(ctx context.Context, tx *db.Tx, source, ref string, r adminunit.Result) (id string, added bool, err error) {
	id = "rv_" + strings.ToLower(rand.Text()[:16])
	source, ref, input, street := cleanText(source), cleanText(ref), cleanText(r.Input), cleanText(r.Street)
	res, err := tx.ExecContext(ctx, insertReview, id, source, ref, input, r.LegacyWardCode, street,
		adminunit.StreetKey(street), strings.Join(r.Candidates, ","), reqctx.Actor(ctx), db.Micros(tx.Now))
	if err != nil {
		return "", false, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return id, true, nil
	}
	err = tx.QueryRowContext(ctx, `SELECT id FROM adminunit_review WHERE source = $1 AND ref = $2 AND input = $3`,
		source, ref, input).Scan(&id)
	return id, false, err
}

// Review is an address waiting for (or settled by) an officer.
type Review struct {
	ID, Source, Ref, Input string
	LegacyWardCode         string
	Street, StreetKey      string
	Candidates             []string
	Status                 string // pending, decided
	WardCode, Rule         string
	DecidedBy, CreatedBy   string
	DecidedAt, CreatedAt   time.Time
}

// ReviewFilter selects reviews; After is the last id of the previous page.
type ReviewFilter struct {
	Status string // "", pending, decided
	After  string
	Limit  int
}

const reviewCols = `id, source, ref, input, legacy_code, street, street_key, candidates, status, ward_code, rule,
decided_by, decided_at, created_by, created_at`

func scanReview(sc interface{ Scan(...any) error }) (Review, error) {
	var r Review
	var cands string
	var decided, created int64
	err := sc.Scan(&r.ID, &r.Source, &r.Ref, &r.Input, &r.LegacyWardCode, &r.Street, &r.StreetKey, &cands, &r.Status,
		&r.WardCode, &r.Rule, &r.DecidedBy, &decided, &r.CreatedBy, &created)
	if err != nil {
		return r, err
	}
	if cands != "" {
		r.Candidates = strings.Split(cands, ",")
	}
	if decided != 0 {
		r.DecidedAt = db.FromMicros(decided)
	}
	r.CreatedAt = db.FromMicros(created)
	return r, nil
}

// wardScope returns the ward a principal scoped to one ward works for, or
// "": such an officer sees and decides only the reviews that could land in
// their ward. (Agency scopes wait for the agency register.)
func wardScope(ctx context.Context) string {
	if p := reqctx.PrincipalOf(ctx); p != nil && p.Scope.Kind == reqctx.ScopeWard {
		return p.Scope.Code
	}
	return ""
}

// inScope is the SQL condition on candidates for wardScope; its two
// parameters are the ward code and the LIKE pattern from scopePattern.
const inScope = `($%d = '' OR (',' || candidates || ',') LIKE $%d)`

func scopePattern(ward string) string { return "%," + db.EscapeLike(ward) + ",%" }

// Reviews lists reviews, oldest first, in pages; After is the last id of the
// previous page.
func (s *Service) Reviews(ctx context.Context, f ReviewFilter) ([]Review, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	if f.Status != "" && f.Status != "pending" && f.Status != "decided" {
		return nil, apperr.InvalidFields(map[string]string{"status": "adminunit.review.bad_status"})
	}
	ward := wardScope(ctx)
	rows, err := s.db.QueryContext(ctx, `SELECT `+reviewCols+` FROM adminunit_review
WHERE ($1 = '' OR status = $1)
  AND ($2 = '' OR (created_at, id) > (SELECT created_at, id FROM adminunit_review WHERE id = $2))
  AND `+fmt.Sprintf(inScope, 4, 5)+`
ORDER BY created_at, id LIMIT $3`, f.Status, f.After, f.Limit, ward, scopePattern(ward))
	if err != nil {
		return nil, fmt.Errorf("list reviews: %w", err)
	}
	defer rows.Close()
	var out []Review
	for rows.Next() {
		r, err := scanReview(rows)
		if err != nil {
			return nil, fmt.Errorf("list reviews: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// CountPending returns how many reviews wait for an officer.
func (s *Service) CountPending(ctx context.Context) (int, error) {
	var n int
	ward := wardScope(ctx)
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM adminunit_review WHERE status = 'pending' AND `+fmt.Sprintf(inScope, 1, 2),
		ward, scopePattern(ward)).Scan(&n)
	return n, err
}

// Review returns one review, if the caller's scope reaches it.
func (s *Service) Review(ctx context.Context, id string) (Review, error) {
	return s.review(ctx, s.db, id)
}

func (s *Service) review(ctx context.Context, q db.Querier, id string) (Review, error) {
	r, err := scanReview(q.QueryRowContext(ctx, `SELECT `+reviewCols+` FROM adminunit_review WHERE id = $1`, id))
	if err != nil {
		return r, db.NotFoundIfNoRows(err, "adminunit.review.not_found")
	}
	// Out of scope is the same as absent: no probing other wards' queues.
	if w := wardScope(ctx); w != "" && !slices.Contains(r.Candidates, w) {
		return Review{}, apperr.New(apperr.NotFound, "adminunit.review.not_found")
	}
	return r, nil
}

// Decision is the outcome of Decide.
type Decision struct {
	Review Review
	// AlsoSettled counts other pending reviews with the same legacy ward and
	// street that the remembered rule settled.
	AlsoSettled int
}

const (
	decideReview = `UPDATE adminunit_review SET status = 'decided', ward_code = $1, rule = $2, decided_by = $3, decided_at = $4
WHERE id = $5 AND status = 'pending'`
	upsertRule = `INSERT INTO adminunit_street_rule (legacy_code, street_key, ward_code, decided_by, review_id, created_at)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (legacy_code, street_key) DO UPDATE SET ward_code = excluded.ward_code,
decided_by = excluded.decided_by, review_id = excluded.review_id, created_at = excluded.created_at`
	settleSame = `UPDATE adminunit_review SET status = 'decided', ward_code = $1, rule = 'street_rule', decided_by = $2, decided_at = $3
WHERE legacy_code = $4 AND street_key = $5 AND status = 'pending'`
)

// Decide records an officer's choice of new ward for a review. The choice is
// remembered for the same street or hamlet text of that legacy ward, so the
// next such address converts by itself, and pending reviews with it settle.
func (s *Service) Decide(ctx context.Context, id, wardCode string) (Decision, error) {
	var d Decision
	actor := reqctx.Actor(ctx)
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		r, err := s.review(ctx, tx, id)
		if err != nil {
			return err
		}
		if r.Status != "pending" {
			return apperr.New(apperr.Conflict, "adminunit.review.already_decided")
		}
		if !slices.Contains(r.Candidates, wardCode) {
			return apperr.InvalidFields(map[string]string{"ward_code": "adminunit.review.not_a_candidate"})
		}
		now := db.Micros(tx.Now)
		res, err := tx.ExecContext(ctx, decideReview, wardCode, string(adminunit.RuleOfficer), actor, now, id)
		if err != nil {
			return err
		}
		// On PostgreSQL another officer may have decided it since we read
		// it; the conditional UPDATE is what settles who was first.
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.Conflict, "adminunit.review.already_decided")
		}
		if r.StreetKey != "" {
			if _, err := tx.ExecContext(ctx, upsertRule, r.LegacyWardCode, r.StreetKey, wardCode, actor, id, now); err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, settleSame, wardCode, actor, now, r.LegacyWardCode, r.StreetKey)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			d.AlsoSettled = int(n)
			if err := bump(ctx, tx); err != nil {
				return err
			}
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "adminunit.review.decide", ObjectType: "adminunit_review", ObjectID: id,
			Details: map[string]any{"legacy_ward": r.LegacyWardCode, "ward": wardCode, "also_settled": d.AlsoSettled}})
		if err != nil {
			return err
		}
		d.Review, err = s.review(ctx, tx, id)
		return err
	})
	if err == nil {
		s.invalidate()
	}
	return d, err
}
