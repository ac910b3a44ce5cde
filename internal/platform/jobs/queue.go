package jobs

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
)

// Queue stores jobs: it enqueues, reads and cancels them. Runners work on them.
type Queue struct {
	db  *db.DB
	log *slog.Logger
}

// NewQueue returns a queue over d, logging to log.
func NewQueue(d *db.DB, log *slog.Logger) *Queue {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Queue{db: d, log: log}
}

// jobColumns is the column list every read scans with scanJob.
const jobColumns = `id, kind, state, payload, unique_key, attempts, max_attempts, run_after, owner,
lease_until, cancel_requested, progress_done, progress_total, progress_message, checkpoint,
last_error, version, created_at, updated_at, started_at, finished_at`

type scanner interface{ Scan(dest ...any) error }

func scanJob(s scanner) (Job, error) {
	var (
		j                                                    Job
		state, payload, checkpoint                           string
		unique                                               sql.NullString
		runAfter, lease, created, updated, started, finished int64
		attempts, maxAttempts                                int64
	)
	err := s.Scan(&j.ID, &j.Kind, &state, &payload, &unique, &attempts, &maxAttempts, &runAfter, &j.Owner,
		&lease, &j.CancelRequested, &j.Done, &j.Total, &j.Message, &checkpoint,
		&j.LastError, &j.Version, &created, &updated, &started, &finished)
	if err != nil {
		return Job{}, err
	}
	j.State = State(state)
	j.Payload = json.RawMessage(payload)
	j.UniqueKey = unique.String
	j.Attempts, j.MaxAttempts = int(attempts), int(maxAttempts)
	j.RunAfter, j.LeaseUntil = db.FromMicros(runAfter), db.FromMicros(lease)
	j.CreatedAt, j.UpdatedAt = db.FromMicros(created), db.FromMicros(updated)
	j.StartedAt, j.FinishedAt = db.FromMicros(started), db.FromMicros(finished)
	if checkpoint != "" {
		if j.Checkpoint, err = base64.StdEncoding.DecodeString(checkpoint); err != nil {
			return Job{}, fmt.Errorf("decode checkpoint of job %s: %w", j.ID, err)
		}
	}
	return j, nil
}

func encodeCheckpoint(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return base64.StdEncoding.EncodeToString(b)
}

// encodePayload turns a payload into the JSON text stored: []byte and
// json.RawMessage must already be JSON and are kept as they are; anything else
// is marshalled; nil becomes null.
func encodePayload(payload any) (string, error) {
	var b []byte
	switch p := payload.(type) {
	case nil:
		return "null", nil
	case json.RawMessage:
		b = p
	case []byte:
		b = p
	default:
		var err error
		if b, err = json.Marshal(p); err != nil {
			return "", err
		}
		return string(b), nil
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return "null", nil
	}
	if !json.Valid(b) {
		return "", errors.New("payload is not valid JSON")
	}
	return string(b), nil
}

func newID() string { return rand.Text() }

const insertJob = `INSERT INTO jobs (id, kind, state, payload, unique_key, attempts, max_attempts, run_after,
owner, lease_until, cancel_requested, progress_done, progress_total, progress_message, checkpoint,
last_error, version, created_at, updated_at, started_at, finished_at)
VALUES ($1, $2, 'pending', $3, $4, 0, $5, $6, '', 0, FALSE, 0, 0, '', '', '', 1, $7, $7, 0, 0)
ON CONFLICT DO NOTHING`

const selectLiveByKey = `SELECT ` + jobColumns + ` FROM jobs WHERE unique_key = $1 AND state IN ('pending', 'running')`

// Enqueue stores a new pending job of kind with payload (JSON-encoded; []byte
// and json.RawMessage are taken as JSON already) and returns it. With a
// UniqueKey that a pending or running job holds, it returns that job instead.
func (q *Queue) Enqueue(ctx context.Context, kind string, payload any, opts EnqueueOptions) (Job, error) {
	var j Job
	err := q.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		j, err = q.EnqueueTx(ctx, tx, kind, payload, opts)
		return err
	})
	if err != nil {
		return Job{}, err
	}
	return j, nil
}

// EnqueueTx is Enqueue inside tx, so the job exists only if tx commits.
func (q *Queue) EnqueueTx(ctx context.Context, tx *db.Tx, kind string, payload any, opts EnqueueOptions) (j Job, err error) {
	defer apperr.Wrap(&err, "enqueue %s job", kind)
	if kind == "" || len(kind) > maxKindLen {
		return Job{}, apperr.InvalidFields(map[string]string{"kind": "jobs.invalid_kind"})
	}
	if opts.MaxAttempts < 0 {
		return Job{}, apperr.InvalidFields(map[string]string{"max_attempts": "jobs.invalid_max_attempts"})
	}
	p, err := encodePayload(payload)
	if err != nil {
		return Job{}, &apperr.Error{Kind: apperr.Invalid, Key: "jobs.invalid_payload", Field: map[string]string{"payload": "jobs.invalid_payload"}, Err: err}
	}
	maxAttempts := opts.MaxAttempts
	if maxAttempts == 0 {
		maxAttempts = DefaultMaxAttempts
	}
	now := tx.Now.Truncate(time.Microsecond)
	runAfter := now
	if !opts.RunAfter.IsZero() {
		runAfter = opts.RunAfter.UTC().Truncate(time.Microsecond)
	}
	unique := sql.NullString{String: opts.UniqueKey, Valid: opts.UniqueKey != ""}
	// A live job with the key can finish between the insert that collides with
	// it and the read that looks for it; then the key is free and we try again.
	for range 3 {
		id := newID()
		res, err := tx.ExecContext(ctx, insertJob, id, kind, p, unique, maxAttempts, db.Micros(runAfter), db.Micros(now))
		if err != nil {
			return Job{}, err
		}
		if n, err := res.RowsAffected(); err != nil {
			return Job{}, err
		} else if n == 1 {
			j = Job{
				ID: id, Kind: kind, State: Pending, Payload: json.RawMessage(p), UniqueKey: opts.UniqueKey,
				MaxAttempts: maxAttempts, RunAfter: runAfter, Version: 1, CreatedAt: now, UpdatedAt: now,
			}
			q.log.DebugContext(ctx, "job enqueued", "job_id", j.ID, "job_kind", kind, "run_after", runAfter)
			return j, nil
		}
		if !unique.Valid {
			return Job{}, fmt.Errorf("job id %s already taken", id)
		}
		j, err = scanJob(tx.QueryRowContext(ctx, selectLiveByKey, opts.UniqueKey))
		if err == nil {
			q.log.DebugContext(ctx, "job deduplicated", "job_id", j.ID, "job_kind", kind)
			return j, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return Job{}, err
		}
	}
	return Job{}, apperr.Wrapf(apperr.Conflict, "jobs.unique_key_busy", errors.New("unique key changed hands too often"))
}

const selectJob = `SELECT ` + jobColumns + ` FROM jobs WHERE id = $1`

// Get returns the job with id, or an apperr NotFound.
func (q *Queue) Get(ctx context.Context, id string) (Job, error) {
	j, err := scanJob(q.db.QueryRowContext(ctx, selectJob, id))
	if err != nil {
		return Job{}, fmt.Errorf("get job %s: %w", id, db.NotFoundIfNoRows(err, "jobs.not_found"))
	}
	return j, nil
}

// List returns the jobs matching f, newest first.
func (q *Queue) List(ctx context.Context, f Filter) (_ []Job, err error) {
	defer apperr.Wrap(&err, "list jobs")
	if f.State != "" && !f.State.Valid() {
		return nil, apperr.InvalidFields(map[string]string{"state": "jobs.invalid_state"})
	}
	if f.Limit < 0 || f.Offset < 0 {
		return nil, apperr.InvalidFields(map[string]string{"limit": "jobs.invalid_page"})
	}
	limit := f.Limit
	if limit == 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.Kind != "" {
		add("kind = ?", f.Kind)
	}
	if f.State != "" {
		add("state = ?", string(f.State))
	}
	if f.UniqueKey != "" {
		add("unique_key = ?", f.UniqueKey)
	}
	qs := `SELECT ` + jobColumns + ` FROM jobs`
	if len(where) > 0 {
		qs += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, limit, f.Offset)
	qs += fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT $%d OFFSET $%d`, len(args)-1, len(args))
	rows, err := q.db.QueryContext(ctx, qs, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Job{}
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// A pending job, or a running one whose runner is gone (lease lapsed), has no
// one to tell: it is cancelled at once.
const cancelNow = `UPDATE jobs SET state = 'cancelled', finished_at = $2, lease_until = 0, updated_at = $2,
version = version + 1
WHERE id = $1 AND (state = 'pending' OR (state = 'running' AND lease_until < $2))`

// A running job is asked; its runner sees the request at the next heartbeat.
const requestCancel = `UPDATE jobs SET cancel_requested = TRUE, updated_at = $2, version = version + 1
WHERE id = $1 AND state = 'running'`

// Cancel cancels a pending job at once, and asks the runner of a running job to
// stop it (the handler's context is cancelled at its next heartbeat). Cancelling
// a cancelled job returns it unchanged; a succeeded or failed job is a Conflict.
func (q *Queue) Cancel(ctx context.Context, id string) (j Job, err error) {
	defer apperr.Wrap(&err, "cancel job %s", id)
	err = q.db.InTx(ctx, func(tx *db.Tx) error {
		now := db.Micros(tx.Now)
		changed := false
		for _, stmt := range []string{cancelNow, requestCancel} {
			res, err := tx.ExecContext(ctx, stmt, id, now)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 1 {
				changed = true
				break
			}
		}
		j, err = scanJob(tx.QueryRowContext(ctx, selectJob, id))
		if err != nil {
			return db.NotFoundIfNoRows(err, "jobs.not_found")
		}
		if j.State == Succeeded || j.State == Failed {
			return apperr.New(apperr.Conflict, "jobs.already_finished")
		}
		if !changed {
			return nil // already cancelled or cancelling: nothing to record
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "job.cancel", ObjectType: "job", ObjectID: j.ID,
			Details: map[string]any{"kind": j.Kind, "state": string(j.State)}})
		return err
	})
	if err != nil {
		return Job{}, err
	}
	q.log.InfoContext(ctx, "job cancel requested", "job_id", j.ID, "job_kind", j.Kind, "state", string(j.State))
	return j, nil
}

const countJobs = `SELECT kind, state, COUNT(*) FROM jobs GROUP BY kind, state`

const oldestReady = `SELECT COALESCE(MIN(run_after), 0) FROM jobs WHERE state = 'pending' AND run_after <= $1`

// Stats counts jobs by state and kind.
func (q *Queue) Stats(ctx context.Context) (_ Stats, err error) {
	defer apperr.Wrap(&err, "job stats")
	s := Stats{ByState: map[State]int64{}, ByKind: map[string]map[State]int64{}}
	for _, st := range States() {
		s.ByState[st] = 0
	}
	rows, err := q.db.QueryContext(ctx, countJobs)
	if err != nil {
		return Stats{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var kind, state string
		var n int64
		if err := rows.Scan(&kind, &state, &n); err != nil {
			return Stats{}, err
		}
		s.ByState[State(state)] += n
		if s.ByKind[kind] == nil {
			s.ByKind[kind] = map[State]int64{}
		}
		s.ByKind[kind][State(state)] = n
	}
	if err := rows.Err(); err != nil {
		return Stats{}, err
	}
	var us int64
	if err := q.db.QueryRowContext(ctx, oldestReady, db.Micros(q.db.Now())).Scan(&us); err != nil {
		return Stats{}, err
	}
	s.OldestReady = db.FromMicros(us)
	return s, nil
}

const purgeJobs = `DELETE FROM jobs WHERE state IN ('succeeded', 'failed', 'cancelled') AND finished_at < $1`

// Purge deletes the final jobs that finished before the given time and returns how many.
func (q *Queue) Purge(ctx context.Context, before time.Time) (int64, error) {
	res, err := q.db.ExecContext(ctx, purgeJobs, db.Micros(before))
	if err != nil {
		return 0, fmt.Errorf("purge jobs: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("purge jobs: %w", err)
	}
	q.log.InfoContext(ctx, "jobs purged", "count", n, "before", before)
	return n, nil
}
