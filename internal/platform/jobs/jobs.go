// Package jobs is hopnhat's durable background work: jobs are rows in the
// database, claimed by runners under a lease, so exactly one runner (in any
// replica) works on a job at a time, and a job whose runner died (kill -9) is
// claimed again when its lease lapses and resumes from its last checkpoint.
//
// A module enqueues with Queue.Enqueue, or Queue.EnqueueTx inside the
// transaction of its own writes, and registers a Handler per kind on a Runner.
// Handlers must be idempotent: a job may run again after a crash. Saving the
// checkpoint with Progress.CheckpointTx in the transaction that writes a batch
// makes each batch happen exactly once.
package jobs

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/db"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations are the jobs module's tables.
var Migrations = db.EmbeddedModule("jobs", migrationFS)

// State is where a job is in its life.
type State string

// The states of a job. Succeeded, Failed and Cancelled are final.
const (
	// Pending jobs wait for RunAfter and a runner.
	Pending State = "pending"
	// Running jobs are held by a runner under a lease.
	Running State = "running"
	// Succeeded jobs returned nil from their handler.
	Succeeded State = "succeeded"
	// Failed jobs used up their attempts or failed permanently; LastError says why.
	Failed State = "failed"
	// Cancelled jobs were cancelled before they finished.
	Cancelled State = "cancelled"
)

// States lists every state in life order.
func States() []State { return []State{Pending, Running, Succeeded, Failed, Cancelled} }

// Valid reports whether s is one of the known states.
func (s State) Valid() bool {
	switch s {
	case Pending, Running, Succeeded, Failed, Cancelled:
		return true
	}
	return false
}

// Final reports whether a job in state s will never run again.
func (s State) Final() bool { return s == Succeeded || s == Failed || s == Cancelled }

// DefaultMaxAttempts is how many times a job runs when EnqueueOptions leaves it 0.
const DefaultMaxAttempts = 5

// maxKindLen bounds Job.Kind; kinds are short code names like "migration.import".
const maxKindLen = 100

// Job is one stored job.
type Job struct {
	ID              string
	Kind            string
	State           State
	Payload         json.RawMessage
	UniqueKey       string // "" when the job has none
	Attempts        int    // claims so far, counting the current one while running
	MaxAttempts     int
	RunAfter        time.Time // not claimed before this time
	Owner           string    // runner holding the lease, or the last one that did
	LeaseUntil      time.Time // zero when no lease is held
	CancelRequested bool
	Done            int64  // progress: units done
	Total           int64  // progress: units in all, 0 when unknown
	Message         string // progress: what the handler is doing
	Checkpoint      []byte // the handler's last saved checkpoint, nil when none
	LastError       string
	Version         int64 // grows by one on every write
	CreatedAt       time.Time
	UpdatedAt       time.Time
	StartedAt       time.Time // first claim; zero until then
	FinishedAt      time.Time // zero until the job is final
}

// Decode unmarshals the job's JSON payload into v.
func (j *Job) Decode(v any) error {
	if err := json.Unmarshal(j.Payload, v); err != nil {
		return apperr.Wrapf(apperr.Invalid, "jobs.invalid_payload", fmt.Errorf("decode payload of job %s: %w", j.ID, err))
	}
	return nil
}

// EnqueueOptions tunes one Enqueue.
type EnqueueOptions struct {
	MaxAttempts int       // 0 means DefaultMaxAttempts
	RunAfter    time.Time // zero means now
	// UniqueKey, when set, dedupes: while a job with this key is pending or
	// running, enqueuing the key again returns that job instead of a new one.
	UniqueKey string
}

// Filter selects jobs for List; zero fields match everything.
type Filter struct {
	Kind      string
	State     State
	UniqueKey string
	Limit     int // 0 means 50; at most 1000
	Offset    int
}

// Stats are counts of jobs for dashboards and metrics.
type Stats struct {
	ByState     map[State]int64            // every state, 0 when none
	ByKind      map[string]map[State]int64 // kinds that have jobs; states with none are absent
	OldestReady time.Time                  // run_after of the longest-waiting ready pending job; zero when none
}

// Causes a handler's context may be cancelled with (see context.Cause).
var (
	// ErrLeaseLost means another runner may hold the job now: the handler must
	// stop, and Progress calls return it.
	ErrLeaseLost = apperr.New(apperr.Conflict, "jobs.lease_lost")
	// ErrCancelled means someone cancelled the job with Queue.Cancel.
	ErrCancelled = apperr.New(apperr.Conflict, "jobs.cancelled")
)

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err so the runner fails the job at once instead of retrying.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err was marked by Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}
