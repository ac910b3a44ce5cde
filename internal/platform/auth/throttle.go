package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/reqctx"
)

// ThrottleConfig sets how failed sign-ins slow down guessing.
type ThrottleConfig struct {
	AccountFailures int           // failures per account before it locks (default 5)
	ClientFailures  int           // failures per client address before it locks (default 20)
	BaseLock        time.Duration // first lock; doubles with each further failure (default 1 min)
	MaxLock         time.Duration // longest lock (default 30 min)
	Window          time.Duration // failures older than this are forgotten (default 15 min)
}

func (c *ThrottleConfig) defaults() {
	if c.AccountFailures == 0 {
		c.AccountFailures = 5
	}
	if c.ClientFailures == 0 {
		c.ClientFailures = 20
	}
	if c.BaseLock == 0 {
		c.BaseLock = time.Minute
	}
	if c.MaxLock == 0 {
		c.MaxLock = 30 * time.Minute
	}
	if c.Window == 0 {
		c.Window = 15 * time.Minute
	}
}

// countFailure adds one failure to a key, starting again from one when the
// last failure is older than the window, and returns the new count.
const countFailure = `INSERT INTO login_throttle (throttle_key, failures, last_failure_at, locked_until) VALUES ($1, 1, $2, 0)
ON CONFLICT (throttle_key) DO UPDATE SET
  failures = CASE WHEN login_throttle.last_failure_at < $3 THEN 1 ELSE login_throttle.failures + 1 END,
  last_failure_at = $2
RETURNING failures`

// PurgeThrottle forgets failures older than the window whose lock has ended.
func (s *Service) PurgeThrottle(ctx context.Context) (int64, error) {
	now := s.db.Now()
	res, err := s.db.ExecContext(ctx, `DELETE FROM login_throttle WHERE last_failure_at < $1 AND locked_until < $2`,
		db.Micros(now.Add(-s.cfg.Throttle.Window)), db.Micros(now))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// keyedMutex serialises work per key and forgets keys nobody holds.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyedEntry
}

type keyedEntry struct {
	mu   sync.Mutex
	refs int
}

// lock takes key's mutex and returns its release.
func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyedEntry{}
	}
	e := k.m[key]
	if e == nil {
		e = &keyedEntry{}
		k.m[key] = e
	}
	e.refs++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}

// lockedFor returns how long the longest lock among keys still runs.
func (s *Service) lockedFor(ctx context.Context, keys []string, now time.Time) (time.Duration, error) {
	var wait time.Duration
	for _, k := range keys {
		var until int64
		err := s.db.QueryRowContext(ctx, `SELECT locked_until FROM login_throttle WHERE throttle_key = $1`, k).Scan(&until)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("throttle lookup: %w", err)
		}
		if d := db.FromMicros(until).Sub(now); d > wait {
			wait = d
		}
	}
	return wait, nil
}

// lockDuration is the lock after the nth failure, when threshold is the first
// that locks: BaseLock, then doubling up to MaxLock.
func (c ThrottleConfig) lockDuration(n, threshold int) time.Duration {
	if n < threshold {
		return 0
	}
	d := c.BaseLock
	for i := threshold; i < n && d < c.MaxLock; i++ {
		d *= 2
	}
	return min(d, c.MaxLock)
}

// failed records a failed attempt against every key, audits it (and a lock, if
// one begins) and returns e.
func (s *Service) failed(ctx context.Context, keys []string, name string, c Credentials, reason string, e error) error {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		locked := false
		for i, k := range keys {
			threshold := s.cfg.Throttle.AccountFailures
			if i > 0 {
				threshold = s.cfg.Throttle.ClientFailures
			}
			// One atomic statement counts the failure, so concurrent failures
			// (other replicas, other accounts from one address) are all kept.
			var n int
			if err := tx.QueryRowContext(ctx, countFailure, k, db.Micros(tx.Now), db.Micros(tx.Now.Add(-s.cfg.Throttle.Window))).Scan(&n); err != nil {
				return err
			}
			lock := s.cfg.Throttle.lockDuration(n, threshold)
			if lock > 0 {
				locked = true
				if _, err := tx.ExecContext(ctx, `UPDATE login_throttle SET locked_until = $1 WHERE throttle_key = $2`,
					db.Micros(tx.Now.Add(lock)), k); err != nil {
					return err
				}
			}
		}
		actor := "anonymous"
		if p := reqctx.PrincipalOf(ctx); p != nil {
			actor = p.Label()
		}
		if _, err := audit.Append(ctx, tx, audit.Record{Actor: actor, Action: "session.login_failed", ObjectType: "user", ObjectID: name,
			Details: map[string]any{"client": c.Client, "reason": reason}}); err != nil {
			return err
		}
		if locked {
			_, err := audit.Append(ctx, tx, audit.Record{Actor: actor, Action: "session.locked", ObjectType: "user", ObjectID: name,
				Details: map[string]any{"client": c.Client}})
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record failed sign-in: %w", err)
	}
	s.log.WarnContext(ctx, "sign-in failed", "reason", reason, "client", c.Client)
	return e
}
