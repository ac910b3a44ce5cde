package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
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
			var n int
			var last int64
			err := tx.QueryRowContext(ctx, `SELECT failures, last_failure_at FROM login_throttle WHERE throttle_key = $1`, k).Scan(&n, &last)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				n = 0
			case err != nil:
				return err
			case tx.Now.Sub(db.FromMicros(last)) > s.cfg.Throttle.Window:
				n = 0
			}
			n++
			lock := s.cfg.Throttle.lockDuration(n, threshold)
			until := int64(0)
			if lock > 0 {
				until = db.Micros(tx.Now.Add(lock))
				locked = true
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO login_throttle (throttle_key, failures, last_failure_at, locked_until)
VALUES ($1, $2, $3, $4) ON CONFLICT (throttle_key) DO UPDATE SET failures = $2, last_failure_at = $3, locked_until = $4`,
				k, n, db.Micros(tx.Now), until); err != nil {
				return err
			}
		}
		if _, err := audit.Append(ctx, tx, audit.Record{Action: "session.login_failed", ObjectType: "user", ObjectID: name,
			Details: map[string]any{"client": c.Client, "reason": reason}}); err != nil {
			return err
		}
		if locked {
			_, err := audit.Append(ctx, tx, audit.Record{Action: "session.locked", ObjectType: "user", ObjectID: name,
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
