package jobs

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hopnhat/internal/platform/db"
)

// Handler does the work of one kind of job. It must stop when ctx is done (see
// context.Cause: ErrCancelled, ErrLeaseLost, or context.Canceled when the runner
// shuts down) and be idempotent, since a job may run again after a crash.
// j.Checkpoint holds the checkpoint saved by earlier attempts. Returning nil
// succeeds the job; an error retries it with backoff, or fails it when it is
// Permanent or the attempts are used up.
type Handler func(ctx context.Context, j *Job, p Progress) error

// Progress is what a running handler reports through. Every call checks that
// the runner still holds the job's lease and returns ErrLeaseLost if not. On
// SQLite (one writer connection) Report and Checkpoint must not be called while
// the handler holds a transaction open; inside one, use CheckpointTx.
type Progress interface {
	// Report stores how far the job has got: done of total units, and a message.
	Report(ctx context.Context, done, total int64, message string) error
	// Checkpoint stores opaque bytes a later attempt resumes from.
	Checkpoint(ctx context.Context, data []byte) error
	// CheckpointTx stores the checkpoint in tx, so it commits with the batch it
	// marks; when the lease is lost it returns ErrLeaseLost and tx must roll back.
	CheckpointTx(ctx context.Context, tx *db.Tx, data []byte) error
}

// RunnerConfig tunes a Runner; zero fields take their defaults.
type RunnerConfig struct {
	Owner       string        // unique per runner; default hostname-pid-random
	Lease       time.Duration // how long a claim lasts without a heartbeat; default 30s
	Heartbeat   time.Duration // how often the lease is extended; default Lease/3
	Poll        time.Duration // wait between claims when no job is ready; default 1s
	Concurrency int           // jobs run at once; default 4
	// Backoff is the wait before retry number attempt+1 after attempt failed;
	// default DefaultBackoff.
	Backoff func(attempt int) time.Duration
}

// Runner claims jobs of the kinds it has handlers for and runs them.
type Runner struct {
	q        *Queue
	cfg      RunnerConfig
	handlers map[string]Handler
	kinds    []string
	claimSQL string
	log      *slog.Logger
	running  atomic.Bool
}

// NewRunner returns a runner of the handlers' kinds over q's database.
func NewRunner(q *Queue, cfg RunnerConfig, handlers map[string]Handler) (*Runner, error) {
	if q == nil {
		return nil, errors.New("new job runner: nil queue")
	}
	if len(handlers) == 0 {
		return nil, errors.New("new job runner: no handlers")
	}
	for k, h := range handlers {
		if h == nil || k == "" || len(k) > maxKindLen {
			return nil, fmt.Errorf("new job runner: bad handler for kind %q", k)
		}
	}
	if cfg.Lease < 0 || cfg.Heartbeat < 0 || cfg.Poll < 0 || cfg.Concurrency < 0 {
		return nil, errors.New("new job runner: negative setting")
	}
	if cfg.Owner == "" {
		cfg.Owner = defaultOwner()
	}
	if cfg.Lease == 0 {
		cfg.Lease = 30 * time.Second
	}
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = cfg.Lease / 3
	}
	if cfg.Heartbeat >= cfg.Lease {
		return nil, fmt.Errorf("new job runner: heartbeat %s must be shorter than lease %s", cfg.Heartbeat, cfg.Lease)
	}
	if cfg.Poll == 0 {
		cfg.Poll = time.Second
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 4
	}
	if cfg.Backoff == nil {
		cfg.Backoff = DefaultBackoff
	}
	kinds := make([]string, 0, len(handlers))
	for k := range handlers {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return &Runner{
		q: q, cfg: cfg, handlers: handlers, kinds: kinds,
		claimSQL: claimQuery(q.db.Dialect(), len(kinds)),
		log:      q.log.With("owner", cfg.Owner),
	}, nil
}

func defaultOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	var b [4]byte
	_, _ = crand.Read(b[:])
	return host + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b[:])
}

// Owner returns the name the runner claims jobs under.
func (r *Runner) Owner() string { return r.cfg.Owner }

// DefaultBackoff waits 5s after the first failure and doubles each time up to
// one hour, with jitter: a random wait between half and all of that.
func DefaultBackoff(attempt int) time.Duration {
	const base, ceiling = 5 * time.Second, time.Hour
	d := ceiling
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 20 {
		d = min(base<<(attempt-1), ceiling)
	}
	return d/2 + rand.N(d/2+1)
}

// Run claims and runs jobs until ctx is done, then waits for the handlers in
// flight to stop (their contexts are cancelled) and hands their jobs back.
func (r *Runner) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return errors.New("run jobs: runner already running")
	}
	defer r.running.Store(false)
	r.log.InfoContext(ctx, "job runner started", "kinds", strings.Join(r.kinds, ","),
		"concurrency", r.cfg.Concurrency, "lease", r.cfg.Lease)
	slots := make(chan struct{}, r.cfg.Concurrency)
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		r.log.InfoContext(context.WithoutCancel(ctx), "job runner stopped")
	}()
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		j, err := r.claim(ctx)
		if err != nil || j == nil {
			<-slots
			if err != nil {
				r.log.WarnContext(ctx, "job claim failed", "error", err)
			}
			if !sleep(ctx, jitter(r.cfg.Poll)) {
				return nil
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			r.execute(ctx, j)
		}()
	}
}

// RunNext claims one ready job and runs it to the end in the calling goroutine.
// It reports false when no job was ready. For tests and one-shot commands.
func (r *Runner) RunNext(ctx context.Context) (bool, error) {
	j, err := r.claim(ctx)
	if err != nil || j == nil {
		return false, err
	}
	r.execute(ctx, j)
	return true, nil
}

// jitter spreads d by ±20 % so runners started together do not poll together.
func jitter(d time.Duration) time.Duration {
	return d*4/5 + rand.N(d*2/5+1)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// ready is a job a runner may claim: pending and due, or running under a lease
// that lapsed (its runner died) and not yet given up.
const ready = `((state = 'pending' AND run_after <= $3) OR (state = 'running' AND lease_until < $3))`

// claimQuery builds the claim: one UPDATE of the row a subselect picks. On
// PostgreSQL the subselect locks its row and skips rows other claims hold; on
// SQLite the write lock serialises claims. Either way the UPDATE repeats the
// readiness test and matches the version it read, so a row that changed between
// the two is not claimed, and the caller checks a row came back.
func claimQuery(d db.Dialect, nkinds int) string {
	in := make([]string, nkinds)
	for i := range in {
		in[i] = "$" + strconv.Itoa(i+4)
	}
	lock := ""
	if d == db.Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	return `UPDATE jobs SET state = 'running', owner = $1, lease_until = $2, attempts = attempts + 1,
version = version + 1, updated_at = $3,
started_at = CASE WHEN started_at = 0 THEN $3 ELSE started_at END,
last_error = CASE WHEN state = 'running'
    THEN 'lease of ' || owner || ' lapsed during attempt ' || CAST(attempts AS TEXT)
    ELSE last_error END
WHERE (id, version) = (SELECT id, version FROM jobs
    WHERE kind IN (` + strings.Join(in, ", ") + `) AND ` + ready + `
    ORDER BY run_after, created_at, id LIMIT 1` + lock + `)
  AND ` + ready + `
RETURNING ` + jobColumns
}

// claim takes the next ready job under a new lease, or returns nil.
func (r *Runner) claim(ctx context.Context) (*Job, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// A claim that commits must not be lost to a cancel racing the commit, or the
	// job would sit until its lease lapsed; so it finishes on its own deadline.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.Lease)
	defer cancel()
	var j Job
	err := r.q.db.InTx(cctx, func(tx *db.Tx) error {
		now := tx.Now
		args := []any{r.cfg.Owner, db.Micros(now.Add(r.cfg.Lease)), db.Micros(now)}
		for _, k := range r.kinds {
			args = append(args, k)
		}
		var err error
		j, err = scanJob(tx.QueryRowContext(cctx, r.claimSQL, args...))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("claim job: %w", err)
	}
	if j.State != Running || j.Owner != r.cfg.Owner {
		return nil, fmt.Errorf("claim job: claim of %s came back as %s of %q", j.ID, j.State, j.Owner)
	}
	return &j, nil
}

// lease is one claim of one job: the runner holds it while the row's owner and
// attempts are still the ones the claim wrote.
type lease struct {
	r      *Runner
	j      *Job
	cancel context.CancelCauseFunc
	lost   atomic.Bool
}

// stop cancels the handler with cause; a lost lease also forbids further writes.
func (l *lease) stop(cause error) {
	if errors.Is(cause, ErrLeaseLost) {
		l.lost.Store(true)
	}
	l.cancel(cause)
}

// extendLease renews only a lease that has not lapsed: once it lapses another
// runner may claim the job at any moment, so the holder must stop.
const extendLease = `UPDATE jobs SET lease_until = $1, updated_at = $2, version = version + 1
WHERE id = $3 AND owner = $4 AND attempts = $5 AND state = 'running' AND lease_until >= $2
RETURNING cancel_requested`

// extend renews the lease; ok is false when the runner no longer holds it (its
// lease lapsed, or another runner claimed the job).
func (l *lease) extend(ctx context.Context) (cancelRequested, ok bool, err error) {
	err = l.r.q.db.InTx(ctx, func(tx *db.Tx) error {
		return tx.QueryRowContext(ctx, extendLease, db.Micros(tx.Now.Add(l.r.cfg.Lease)), db.Micros(tx.Now),
			l.j.ID, l.r.cfg.Owner, l.j.Attempts).Scan(&cancelRequested)
	})
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return false, false, nil
		}
		return false, false, err
	}
	return cancelRequested, true, nil
}

// heartbeat extends the lease every Heartbeat until done closes. It stops the
// handler when the lease is lost or a cancel is requested. A slow database
// (a busy SQLite writer) gets until the lease would lapse to answer; when it
// has not answered by then, the lease must be presumed lost.
func (l *lease) heartbeat(base context.Context, done <-chan struct{}) {
	t := time.NewTicker(l.r.cfg.Heartbeat)
	defer t.Stop()
	lastOK := time.Now()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		wait := max(l.r.cfg.Heartbeat, l.r.cfg.Lease-time.Since(lastOK))
		ctx, cancel := context.WithTimeout(base, wait)
		cancelRequested, ok, err := l.extend(ctx)
		cancel()
		switch {
		case err != nil:
			l.r.log.WarnContext(base, "job heartbeat failed", "job_id", l.j.ID, "job_kind", l.j.Kind, "error", err)
			if time.Since(lastOK) >= l.r.cfg.Lease {
				l.stop(ErrLeaseLost)
				return
			}
		case !ok:
			l.r.log.WarnContext(base, "job lease lost", "job_id", l.j.ID, "job_kind", l.j.Kind, "attempt", l.j.Attempts)
			l.stop(ErrLeaseLost)
			return
		default:
			lastOK = time.Now()
			if cancelRequested {
				l.stop(ErrCancelled)
			}
		}
	}
}

const reportProgress = `UPDATE jobs SET progress_done = $1, progress_total = $2, progress_message = $3,
updated_at = $4, version = version + 1
WHERE id = $5 AND owner = $6 AND attempts = $7 AND state = 'running'
RETURNING cancel_requested`

const saveCheckpoint = `UPDATE jobs SET checkpoint = $1, updated_at = $2, version = version + 1
WHERE id = $3 AND owner = $4 AND attempts = $5 AND state = 'running'
RETURNING cancel_requested`

// Report implements Progress.
func (l *lease) Report(ctx context.Context, done, total int64, message string) error {
	if l.lost.Load() {
		return ErrLeaseLost
	}
	var cancelRequested bool
	err := l.r.q.db.InTx(ctx, func(tx *db.Tx) error {
		return tx.QueryRowContext(ctx, reportProgress, done, total, message, db.Micros(tx.Now),
			l.j.ID, l.r.cfg.Owner, l.j.Attempts).Scan(&cancelRequested)
	})
	return l.afterWrite(cancelRequested, err, "report progress")
}

// Checkpoint implements Progress.
func (l *lease) Checkpoint(ctx context.Context, data []byte) error {
	return l.r.q.db.InTx(ctx, func(tx *db.Tx) error { return l.CheckpointTx(ctx, tx, data) })
}

// CheckpointTx implements Progress.
func (l *lease) CheckpointTx(ctx context.Context, tx *db.Tx, data []byte) error {
	if l.lost.Load() {
		return ErrLeaseLost
	}
	var cancelRequested bool
	err := tx.QueryRowContext(ctx, saveCheckpoint, encodeCheckpoint(data), db.Micros(tx.Now),
		l.j.ID, l.r.cfg.Owner, l.j.Attempts).Scan(&cancelRequested)
	return l.afterWrite(cancelRequested, err, "save checkpoint")
}

func (l *lease) afterWrite(cancelRequested bool, err error, what string) error {
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			l.stop(ErrLeaseLost)
			return fmt.Errorf("%s of job %s: %w", what, l.j.ID, ErrLeaseLost)
		}
		return fmt.Errorf("%s of job %s: %w", what, l.j.ID, err)
	}
	if cancelRequested {
		l.stop(ErrCancelled)
	}
	return nil
}

// execute runs a claimed job's handler under a heartbeat and records the outcome.
func (r *Runner) execute(ctx context.Context, j *Job) {
	log := r.log.With("job_id", j.ID, "job_kind", j.Kind, "attempt", j.Attempts)
	switch {
	case j.CancelRequested:
		// Its runner died after the cancel was asked for: nothing left to stop.
		r.fail(ctx, log, j, ErrCancelled, true)
		return
	case j.Attempts > j.MaxAttempts:
		// Its runner died during the last attempt it had.
		r.fail(ctx, log, j, errors.New(j.LastError), true)
		return
	}
	log.DebugContext(ctx, "job started")
	hctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	l := &lease{r: r, j: j, cancel: cancel}
	done := make(chan struct{})
	var beats sync.WaitGroup
	beats.Go(func() { l.heartbeat(context.WithoutCancel(ctx), done) })
	start := time.Now()
	err := r.call(hctx, j, l)
	close(done)
	beats.Wait()
	log = log.With("duration_ms", time.Since(start).Milliseconds())
	switch {
	case err == nil:
		// Even after the lease was presumed lost: the write is guarded, and if
		// no one took the job over, storing the success spares a rerun.
		r.succeed(ctx, log, j)
	case l.lost.Load():
		// Someone else may hold the job now; when its lease lapses it is
		// claimed again, and this attempt counts.
		log.WarnContext(ctx, "job abandoned after lease lost", "error", errString(err))
	case IsPermanent(err):
		r.fail(ctx, log, j, err, true)
	case ctx.Err() != nil && !errors.Is(context.Cause(hctx), ErrCancelled):
		r.release(ctx, log, j, err)
	default:
		r.fail(ctx, log, j, err, false)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// call runs the handler, turning a panic into an error.
func (r *Runner) call(ctx context.Context, j *Job, p Progress) (err error) {
	defer func() {
		if v := recover(); v != nil {
			r.log.ErrorContext(ctx, "job handler panicked", "job_id", j.ID, "job_kind", j.Kind,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = fmt.Errorf("handler panicked: %v", v)
		}
	}()
	return r.handlers[j.Kind](ctx, j, p)
}

// writeCtx outlives ctx: the outcome of a job must be stored even while the
// runner shuts down.
func (r *Runner) writeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), r.cfg.Lease)
}

// finishTx runs one guarded outcome statement; ok is false when the runner no
// longer held the job.
func (r *Runner) finishTx(ctx context.Context, q string, args func(now int64) []any) (state State, ok bool, err error) {
	wctx, cancel := r.writeCtx(ctx)
	defer cancel()
	err = r.q.db.InTx(wctx, func(tx *db.Tx) error {
		var s string
		if err := tx.QueryRowContext(wctx, q, args(db.Micros(tx.Now))...).Scan(&s); err != nil {
			return err
		}
		state = State(s)
		return nil
	})
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return "", false, nil
		}
		return "", false, err
	}
	return state, true, nil
}

const succeedJob = `UPDATE jobs SET state = 'succeeded', lease_until = 0, finished_at = $1, updated_at = $1,
last_error = '', version = version + 1
WHERE id = $2 AND owner = $3 AND attempts = $4 AND state = 'running'
RETURNING state`

func (r *Runner) succeed(ctx context.Context, log *slog.Logger, j *Job) {
	_, ok, err := r.finishTx(ctx, succeedJob, func(now int64) []any {
		return []any{now, j.ID, r.cfg.Owner, j.Attempts}
	})
	switch {
	case err != nil:
		log.ErrorContext(ctx, "job outcome not stored", "outcome", "succeeded", "error", err)
	case !ok:
		log.WarnContext(ctx, "job lease lost before its outcome was stored", "outcome", "succeeded")
	default:
		log.InfoContext(ctx, "job succeeded")
	}
}

// failJob stores a failed attempt: the job is cancelled if that was asked for,
// failed if the error is permanent or the attempts are used up, else pending
// again after the backoff. A running job's finished_at is 0, so ELSE keeps it
// (a literal 0 there would make PostgreSQL type $1 as int4).
const failJob = `UPDATE jobs SET
state = CASE WHEN cancel_requested THEN 'cancelled'
    WHEN $5 OR attempts >= max_attempts THEN 'failed' ELSE 'pending' END,
finished_at = CASE WHEN cancel_requested OR $5 OR attempts >= max_attempts THEN $1 ELSE finished_at END,
run_after = CASE WHEN cancel_requested OR $5 OR attempts >= max_attempts THEN run_after ELSE $6 END,
last_error = $7, lease_until = 0, updated_at = $1, version = version + 1
WHERE id = $2 AND owner = $3 AND attempts = $4 AND state = 'running'
RETURNING state`

func (r *Runner) fail(ctx context.Context, log *slog.Logger, j *Job, cause error, permanent bool) {
	wait := r.cfg.Backoff(j.Attempts)
	msg := errString(cause)
	state, ok, err := r.finishTx(ctx, failJob, func(now int64) []any {
		return []any{now, j.ID, r.cfg.Owner, j.Attempts, permanent, now + wait.Microseconds(), msg}
	})
	switch {
	case err != nil:
		log.ErrorContext(ctx, "job outcome not stored", "outcome", "failed", "error", err, "job_error", msg)
	case !ok:
		log.WarnContext(ctx, "job lease lost before its outcome was stored", "outcome", "failed", "job_error", msg)
	case state == Pending:
		log.WarnContext(ctx, "job retry scheduled", "error", msg, "retry_in", wait)
	case state == Cancelled:
		log.InfoContext(ctx, "job cancelled", "error", msg)
	default:
		log.ErrorContext(ctx, "job failed", "error", msg, "permanent", permanent)
	}
}

// releaseJob hands back a job its runner stopped for shutdown: the attempt does
// not count, so restarts during a deploy do not use up a job's attempts.
const releaseJob = `UPDATE jobs SET
state = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'pending' END,
finished_at = CASE WHEN cancel_requested THEN $1 ELSE finished_at END,
attempts = attempts - 1, run_after = $1, lease_until = 0, updated_at = $1, version = version + 1
WHERE id = $2 AND owner = $3 AND attempts = $4 AND state = 'running'
RETURNING state`

func (r *Runner) release(ctx context.Context, log *slog.Logger, j *Job, cause error) {
	state, ok, err := r.finishTx(ctx, releaseJob, func(now int64) []any {
		return []any{now, j.ID, r.cfg.Owner, j.Attempts}
	})
	switch {
	case err != nil:
		log.ErrorContext(ctx, "job outcome not stored", "outcome", "released", "error", err)
	case !ok:
		log.WarnContext(ctx, "job lease lost before its outcome was stored", "outcome", "released")
	default:
		log.InfoContext(ctx, "job released at shutdown", "state", string(state), "error", errString(cause))
	}
}
