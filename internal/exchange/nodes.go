package exchange

import (
	"context"
	"time"

	"hopnhat/internal/platform/db"
)

// Several gateway processes share one database behind a load balancer. Each
// counts its calls against a grant's rate in memory, so each takes its share
// of the rate: the rate divided by the processes seen alive. Each process
// says it is alive every nodeEvery; one unseen for nodeGone is no longer
// counted. When the balancer spreads calls evenly, the whole stays within
// the rate; a process that gets more than its share refuses earlier.
var (
	nodeEvery = 5 * time.Second
	nodeGone  = 3 * nodeEvery
)

// Nodes is how many gateway processes this one counts, itself included.
func (s *Service) Nodes() int { return int(max(1, s.nodes.Load())) }

// heartbeat says this process is alive and counts the live ones.
func (s *Service) heartbeat(ctx context.Context) {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		now := db.Micros(tx.Now)
		if _, err := tx.ExecContext(ctx, `INSERT INTO xchg_node (id, started_at, seen_at) VALUES ($1, $2, $2)
ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at`, s.msg.idPrefix, now); err != nil {
			return err
		}
		cutoff := now - nodeGone.Microseconds()
		if _, err := tx.ExecContext(ctx, `DELETE FROM xchg_node WHERE seen_at < $1`, cutoff-time.Minute.Microseconds()); err != nil {
			return err
		}
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM xchg_node WHERE seen_at >= $1`, cutoff).Scan(&n); err != nil {
			return err
		}
		s.nodes.Store(max(1, n))
		return nil
	})
	if err != nil && ctx.Err() == nil {
		s.log.Warn("gateway heartbeat failed", "err", err)
	}
}

// leave takes this process off the count as it stops.
func (s *Service) leave(ctx context.Context) {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM xchg_node WHERE id = $1`, s.msg.idPrefix); err != nil {
		s.log.Warn("gateway: could not leave the process count", "err", err)
	}
}
