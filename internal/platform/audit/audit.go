// Package audit is hopnhat's append-only, hash-chained audit trail. Every change
// appends an entry in the transaction that makes it; each entry's hash covers the
// previous entry's hash, so Verify finds any entry edited, removed or reordered.
package audit

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/reqctx"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations are the audit module's tables.
var Migrations = db.EmbeddedModule("audit", migrationFS)

// Entry is one audit record.
type Entry struct {
	Seq        int64
	At         time.Time
	Actor      string
	Action     string // verb in dotted form: "user.create", "session.login_failed"
	ObjectType string
	ObjectID   string
	Details    map[string]any
	RequestID  string
	PrevHash   string
	Hash       string

	details string // the canonical JSON as stored
}

// Pair is one detail of an entry, its value as text.
type Pair struct{ Key, Value string }

// DetailPairs returns the details as key–value text, keys sorted; nested
// values are shown as compact JSON.
func (e Entry) DetailPairs() []Pair {
	keys := make([]string, 0, len(e.Details))
	for k := range e.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Pair, 0, len(keys))
	for _, k := range keys {
		v := e.Details[k]
		var text string
		switch x := v.(type) {
		case string:
			text = x
		case nil:
			text = "—"
		default:
			b, _ := json.Marshal(x)
			text = string(b)
		}
		out = append(out, Pair{k, text})
	}
	return out
}

// canonical encodes the fields the hash covers: a JSON array in a fixed order,
// details already canonical (encoding/json sorts map keys).
func canonical(seq int64, at int64, actor, action, objType, objID, details, reqID, prev string) []byte {
	b, _ := json.Marshal([]any{seq, at, actor, action, objType, objID, details, reqID, prev})
	return b
}

func hashOf(seq int64, at int64, actor, action, objType, objID, details, reqID, prev string) string {
	sum := sha256.Sum256(canonical(seq, at, actor, action, objType, objID, details, reqID, prev))
	return hex.EncodeToString(sum[:])
}

// Record is what a caller states about a change; the actor and request id come
// from ctx unless set.
type Record struct {
	Actor      string
	Action     string
	ObjectType string
	ObjectID   string
	Details    map[string]any
}

const lockHead = `UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash`

const insertEntry = `INSERT INTO audit_log (seq, at, actor, action, object_type, object_id, details, request_id, prev_hash, hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

const moveHead = `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`

// Append adds an entry in tx. The UPDATE of the head row takes its lock first, so
// concurrent appenders queue on it and each extends the newest entry.
func Append(ctx context.Context, tx *db.Tx, r Record) (Entry, error) {
	es, err := AppendAll(ctx, tx, []Record{r})
	if err != nil {
		return Entry{}, err
	}
	return es[0], nil
}

// AppendAll adds entries in tx, in order, taking the head lock once: the way
// to audit many events (a batch of gateway calls) at one commit's cost.
func AppendAll(ctx context.Context, tx *db.Tx, rs []Record) ([]Entry, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	var seq int64
	var prev string
	if err := tx.QueryRowContext(ctx, lockHead).Scan(&seq, &prev); err != nil {
		return nil, fmt.Errorf("audit: lock head: %w", err)
	}
	out := make([]Entry, 0, len(rs))
	at := tx.Now.Truncate(time.Microsecond)
	reqID := reqctx.RequestID(ctx)
	for _, r := range rs {
		actor := r.Actor
		if actor == "" {
			actor = reqctx.Actor(ctx)
		}
		details := "{}"
		if len(r.Details) > 0 {
			b, err := json.Marshal(r.Details)
			if err != nil {
				return nil, fmt.Errorf("audit: encode details: %w", err)
			}
			details = string(b)
		}
		seq++
		e := Entry{
			Seq: seq, At: at, Actor: actor, Action: r.Action, ObjectType: r.ObjectType, ObjectID: r.ObjectID,
			Details: r.Details, RequestID: reqID, PrevHash: prev, details: details,
		}
		e.Hash = hashOf(e.Seq, db.Micros(at), e.Actor, e.Action, e.ObjectType, e.ObjectID, details, e.RequestID, prev)
		if _, err := tx.ExecContext(ctx, insertEntry, e.Seq, db.Micros(at), e.Actor, e.Action, e.ObjectType, e.ObjectID,
			details, e.RequestID, prev, e.Hash); err != nil {
			return nil, fmt.Errorf("audit: append: %w", err)
		}
		prev = e.Hash
		out = append(out, e)
	}
	if _, err := tx.ExecContext(ctx, moveHead, seq, prev); err != nil {
		return nil, fmt.Errorf("audit: move head: %w", err)
	}
	return out, nil
}

// Log appends one entry in a transaction of its own, for events that change
// nothing else (a failed login).
func Log(ctx context.Context, d *db.DB, r Record) error {
	return d.InTx(ctx, func(tx *db.Tx) error {
		_, err := Append(ctx, tx, r)
		return err
	})
}

// Filter selects entries for the trail page; zero fields match everything.
type Filter struct {
	Actor      string
	Action     string // prefix match: "user." matches every user action
	ObjectType string
	ObjectID   string
	From, To   time.Time // To is exclusive
	BeforeSeq  int64     // keyset page: entries with seq below this
	Limit      int
}

const selectEntries = `SELECT seq, at, actor, action, object_type, object_id, details, request_id, prev_hash, hash FROM audit_log`

// List returns entries newest first.
func List(ctx context.Context, q db.Querier, f Filter) ([]Entry, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Actor != "" {
		add("actor = $%d", f.Actor)
	}
	if f.Action != "" {
		add("action LIKE $%d", db.EscapeLike(f.Action)+"%")
		where[len(where)-1] += ` ESCAPE '\'`
	}
	if f.ObjectType != "" {
		add("object_type = $%d", f.ObjectType)
	}
	if f.ObjectID != "" {
		add("object_id = $%d", f.ObjectID)
	}
	if !f.From.IsZero() {
		add("at >= $%d", db.Micros(f.From))
	}
	if !f.To.IsZero() {
		add("at < $%d", db.Micros(f.To))
	}
	if f.BeforeSeq > 0 {
		add("seq < $%d", f.BeforeSeq)
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	query := selectEntries
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, limit)
	query += fmt.Sprintf(" ORDER BY seq DESC LIMIT $%d", len(args))
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

type scanner interface{ Scan(...any) error }

func scan(s scanner) (Entry, error) {
	var e Entry
	var at int64
	if err := s.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.ObjectType, &e.ObjectID, &e.details, &e.RequestID, &e.PrevHash, &e.Hash); err != nil {
		return Entry{}, fmt.Errorf("scan audit entry: %w", err)
	}
	e.At = db.FromMicros(at)
	if e.details != "" && e.details != "{}" {
		_ = json.Unmarshal([]byte(e.details), &e.Details)
	}
	return e, nil
}

// Problem is the first broken link Verify found.
type Problem struct {
	Seq    int64  // the entry at fault (or the expected one, when missing)
	Reason string // "edited", "removed", "reordered", "head_mismatch"
}

// Report is the result of Verify.
type Report struct {
	Checked int64
	Head    string   // hash of the newest entry
	Problem *Problem // nil when the chain is intact
}

// Verify walks the whole chain in order and returns the first entry that was
// edited (its hash no longer matches its content), removed (a gap in seq or a
// prev_hash that names a missing entry) or reordered (an entry whose prev_hash
// is not its predecessor's hash). It streams: memory stays flat on any size.
func Verify(ctx context.Context, d *db.DB) (Report, error) {
	// The head first: entries appended while we read are past it and left for
	// the next run, instead of looking like a head that ran ahead.
	var hs int64
	var hh string
	if err := d.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&hs, &hh); err != nil {
		return Report{}, fmt.Errorf("verify audit head: %w", err)
	}
	rows, err := d.QueryContext(ctx, selectEntries+" WHERE seq <= $1 ORDER BY seq", hs)
	if err != nil {
		return Report{}, fmt.Errorf("verify audit: %w", err)
	}
	defer rows.Close()
	var rep Report
	want := int64(1)
	prev := ""
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return rep, err
		}
		if rep.Problem == nil {
			switch {
			case hashOf(e.Seq, db.Micros(e.At), e.Actor, e.Action, e.ObjectType, e.ObjectID, e.details, e.RequestID, e.PrevHash) != e.Hash:
				rep.Problem = &Problem{Seq: e.Seq, Reason: "edited"}
			case e.Seq != want:
				rep.Problem = &Problem{Seq: want, Reason: "removed"}
			case e.PrevHash != prev:
				// Same seq, intact hash, but it does not follow its predecessor:
				// entries were moved (or rewritten wholesale) behind it.
				rep.Problem = &Problem{Seq: e.Seq, Reason: "reordered"}
			}
		}
		prev = e.Hash
		want = e.Seq + 1
		rep.Checked++
	}
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("verify audit: %w", err)
	}
	rep.Head = prev
	// Entries removed from the end leave the head pointing past them.
	if rep.Problem == nil && (hs != want-1 || hh != prev) {
		rep.Problem = &Problem{Seq: want, Reason: "head_mismatch"}
	}
	return rep, nil
}

// Diff records in changes, under key, a field that went from a to b, in the
// {"from": a, "to": b} form the trail shows; an unchanged field adds nothing.
func Diff[T comparable](changes map[string]any, key string, a, b T) {
	if a != b {
		changes[key] = map[string]any{"from": a, "to": b}
	}
}
