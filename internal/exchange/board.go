package exchange

import (
	"context"
	"fmt"
	"slices"
	"time"

	"hopnhat/internal/platform/db"
)

// BoardConsumer is one consumer's calls to one service over the board's window.
type BoardConsumer struct {
	ConsumerID  string
	Name        string
	Calls       int64 // all calls
	LegacyCalls int64 // answered by the legacy LGSP (the backup upstream)
	Errors      int64
	LastCall    time.Time
	LastLegacy  time.Time
}

// BoardService is one service on the migration board.
type BoardService struct {
	Service     ServiceDef
	Consumers   []BoardConsumer // granted or calling, the ones still on the legacy LGSP first
	Calls       int64
	LegacyCalls int64
	Compared    int64 // shadow comparisons
	Differed    int64
	// Moved: the service runs on the new system (cutover new) and no call
	// was answered by the legacy LGSP over the window.
	Moved bool
}

// Board is the migration board: per service, who still calls through the
// legacy LGSP, so the province knows when it can be switched off.
type Board struct {
	Days     int
	Since    time.Time
	Services []BoardService
	Moved    int
	// CanRetire: every service with a legacy upstream has moved.
	CanRetire bool
}

// MigrationBoard reads the last days of usage (Vietnam calendar days,
// today included).
func (s *Service) MigrationBoard(ctx context.Context, days int) (Board, error) {
	days = min(max(days, 1), 366)
	now := s.db.Now()
	since := now.Add(7*time.Hour).AddDate(0, 0, -(days - 1))
	b := Board{Days: days, Since: since}
	services, err := s.Services(ctx)
	if err != nil {
		return b, err
	}
	consumers, err := s.Consumers(ctx)
	if err != nil {
		return b, err
	}
	names := map[string]string{}
	for _, c := range consumers {
		names[c.ID] = c.Name
	}
	type key struct{ service, consumer string }
	rows := map[key]*BoardConsumer{}
	get := func(service, consumer string) *BoardConsumer {
		k := key{service, consumer}
		if r, ok := rows[k]; ok {
			return r
		}
		r := &BoardConsumer{ConsumerID: consumer, Name: names[consumer]}
		rows[k] = r
		return r
	}
	grants, err := s.db.QueryContext(ctx, `SELECT g.consumer_id, s.code FROM xchg_grant g JOIN xchg_service s ON s.id = g.service_id`)
	if err != nil {
		return b, fmt.Errorf("board grants: %w", err)
	}
	for grants.Next() {
		var c, code string
		if err := grants.Scan(&c, &code); err != nil {
			grants.Close()
			return b, err
		}
		get(code, c)
	}
	grants.Close()
	first := vnDay(since.Add(-7 * time.Hour))
	usage, err := s.db.QueryContext(ctx, `SELECT service_code, consumer_id, upstream, SUM(calls), SUM(errors), MAX(last_at)
FROM xchg_usage WHERE day >= $1 GROUP BY service_code, consumer_id, upstream`, first)
	if err != nil {
		return b, fmt.Errorf("board usage: %w", err)
	}
	for usage.Next() {
		var code, c, up string
		var calls, errs, last int64
		if err := usage.Scan(&code, &c, &up, &calls, &errs, &last); err != nil {
			usage.Close()
			return b, err
		}
		r := get(code, c)
		r.Calls += calls
		r.Errors += errs
		if t := db.FromMicros(last); t.After(r.LastCall) {
			r.LastCall = t
		}
		if up == "backup" {
			r.LegacyCalls += calls
			if t := db.FromMicros(last); t.After(r.LastLegacy) {
				r.LastLegacy = t
			}
		}
	}
	usage.Close()
	shadow := map[string][2]int64{}
	sh, err := s.db.QueryContext(ctx, `SELECT service_code, SUM(compared), SUM(differed) FROM xchg_shadow_day WHERE day >= $1
GROUP BY service_code`, first)
	if err != nil {
		return b, fmt.Errorf("board shadow: %w", err)
	}
	for sh.Next() {
		var code string
		var c [2]int64
		if err := sh.Scan(&code, &c[0], &c[1]); err != nil {
			sh.Close()
			return b, err
		}
		shadow[code] = c
	}
	sh.Close()
	b.CanRetire = true
	for _, d := range services {
		bs := BoardService{Service: d, Compared: shadow[d.Code][0], Differed: shadow[d.Code][1]}
		for k, r := range rows {
			if k.service == d.Code {
				bs.Consumers = append(bs.Consumers, *r)
				bs.Calls += r.Calls
				bs.LegacyCalls += r.LegacyCalls
			}
		}
		slices.SortFunc(bs.Consumers, func(a, b BoardConsumer) int {
			if (a.LegacyCalls > 0) != (b.LegacyCalls > 0) {
				if a.LegacyCalls > 0 {
					return -1
				}
				return 1
			}
			if a.Name != b.Name {
				if a.Name < b.Name {
					return -1
				}
				return 1
			}
			if a.ConsumerID < b.ConsumerID {
				return -1
			}
			return 1
		})
		bs.Moved = d.Cutover == CutoverNew && bs.LegacyCalls == 0
		if bs.Moved {
			b.Moved++
		} else if d.BackupURL != "" || d.Cutover != CutoverNew {
			b.CanRetire = false
		}
		b.Services = append(b.Services, bs)
	}
	return b, nil
}

// ShadowDiffs returns the newest recorded differences of a service.
func (s *Service) ShadowDiffs(ctx context.Context, code string, limit int) ([]ShadowDiff, error) {
	limit = min(max(limit, 1), 200)
	rows, err := s.db.QueryContext(ctx, `SELECT id, at, service_code, consumer_id, method, path, request_id, legacy_status,
new_status, legacy_bytes, new_bytes, legacy_sample, new_sample, reason FROM xchg_shadow_diff WHERE service_code = $1
ORDER BY at DESC, id DESC LIMIT $2`, code, limit)
	if err != nil {
		return nil, fmt.Errorf("shadow diffs: %w", err)
	}
	defer rows.Close()
	var out []ShadowDiff
	for rows.Next() {
		var d ShadowDiff
		var at int64
		if err := rows.Scan(&d.ID, &at, &d.ServiceCode, &d.ConsumerID, &d.Method, &d.Path, &d.RequestID, &d.LegacyStatus,
			&d.NewStatus, &d.LegacyBytes, &d.NewBytes, &d.LegacySample, &d.NewSample, &d.Reason); err != nil {
			return nil, fmt.Errorf("shadow diffs: %w", err)
		}
		d.At = db.FromMicros(at)
		out = append(out, d)
	}
	return out, rows.Err()
}
