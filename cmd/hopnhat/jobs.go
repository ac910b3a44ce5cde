package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"time"

	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/jobs"
)

// The platform's own maintenance jobs.
const (
	jobPurgeSessions = "platform.purge_sessions"
	jobVerifyAudit   = "platform.verify_audit"
)

// maintenanceEvery is how often serve schedules the maintenance jobs. Each is
// enqueued with a unique key, so any number of replicas schedule one of each.
const maintenanceEvery = time.Hour

func newJobRunner(a *app) (*jobRunner, error) {
	q := a.jobs
	r, err := jobs.NewRunner(q, jobs.RunnerConfig{}, map[string]jobs.Handler{
		jobPurgeSessions: func(ctx context.Context, j *jobs.Job, p jobs.Progress) error {
			n, err := a.auth.PurgeSessions(ctx)
			if err != nil {
				return err
			}
			t, err := a.auth.PurgeThrottle(ctx)
			if err != nil {
				return err
			}
			// Converted spreadsheets wait a day for their download.
			e, err := a.units.PurgeExports(ctx)
			if err != nil {
				return err
			}
			t += e
			// Finished jobs are kept a month for the jobs page, then dropped.
			if _, err := a.jobs.Purge(ctx, a.db.Now().AddDate(0, -1, 0)); err != nil {
				return err
			}
			return p.Report(ctx, n+t, n+t, "jobs.msg.purged")
		},
		jobVerifyAudit: func(ctx context.Context, j *jobs.Job, p jobs.Progress) error {
			rep, err := audit.Verify(ctx, a.db)
			if err != nil {
				return err
			}
			if rep.Problem != nil {
				a.log.ErrorContext(ctx, "audit chain broken", "seq", rep.Problem.Seq, "reason", rep.Problem.Reason)
				return jobs.Permanent(fmt.Errorf("audit chain broken at entry %d (%s)", rep.Problem.Seq, rep.Problem.Reason))
			}
			return p.Report(ctx, rep.Checked, rep.Checked, "jobs.msg.audit_intact")
		},
	})
	if err != nil {
		return nil, err
	}
	return &jobRunner{a: a, q: q, r: r}, nil
}

type jobRunner struct {
	a *app
	q *jobs.Queue
	r *jobs.Runner
}

// Run schedules maintenance and runs jobs until ctx is done.
func (jr *jobRunner) Run(ctx context.Context) error {
	go func() {
		t := time.NewTicker(maintenanceEvery)
		defer t.Stop()
		for {
			for _, kind := range []string{jobPurgeSessions, jobVerifyAudit} {
				if _, err := jr.q.Enqueue(ctx, kind, nil, jobs.EnqueueOptions{UniqueKey: kind, MaxAttempts: 3}); err != nil && ctx.Err() == nil {
					jr.a.log.Warn("schedule maintenance job", "kind", kind, "err", err)
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return jr.r.Run(ctx)
}

const passwordAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// generatePassword returns 16 characters from an alphabet without look-alikes
// (about 93 bits).
func generatePassword() string {
	b := make([]byte, 16)
	for i := range b {
		// crypto/rand's reader does not fail on supported platforms.
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(passwordAlphabet))))
		b[i] = passwordAlphabet[n.Int64()]
	}
	return string(b)
}
