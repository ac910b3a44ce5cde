package exchange

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hopnhat/internal/platform/db"
)

// The message log keeps one record per call. The proxy hands each finished
// call's record to a buffer; one writer takes up to batchMax records at a
// time and writes them in one transaction at least every flushEvery. On a
// graceful stop the writer drains the buffer before it returns, so no
// finished call's record is lost. A crash (kill -9, power) loses what was
// still buffered: in steady running the calls of the last flushEvery, and
// never more than bufferSize records plus the batch being written. When the database cannot keep up for
// longer than the buffer lasts, calls wait for room: the gateway prefers a
// complete log to answering faster.
const (
	// DefaultFlushEvery is how often the log is written while calls come.
	DefaultFlushEvery = 200 * time.Millisecond
	batchMax          = 2000
	bufferSize        = 65536
	insertRows        = 400 // rows per INSERT statement
	finalTries        = 30  // attempts of the last write on a graceful stop
)

// Message is one call's record.
type Message struct {
	ID          string
	At          time.Time
	ConsumerID  string
	ServiceCode string
	Method      string
	Path        string
	Status      int
	Latency     time.Duration
	BytesIn     int64
	BytesOut    int64
	RequestID   string
	Upstream    string // primary, backup, or empty: the gateway answered itself
	Problem     string // the gateway's problem code when it answered itself
}

// ShadowDiff is one shadow call whose answers differed.
type ShadowDiff struct {
	ID                      string
	At                      time.Time
	ServiceCode, ConsumerID string
	Method, Path, RequestID string
	LegacyStatus, NewStatus int
	LegacyBytes, NewBytes   int64
	LegacySample, NewSample string
	Reason                  string // status, body, unreachable
}

// entry is what the writer takes: a call's record or a shadow comparison.
type entry struct {
	msg    *Message
	shadow *ShadowDiff // Reason empty: the answers matched
}

type msgLog struct {
	s          *Service
	ch         chan entry
	flushEvery time.Duration
	idPrefix   string
	seq        atomic.Uint64
	mu         sync.RWMutex // held for reading by add, for writing by the final drain
	stopped    bool
}

func newMsgLog(s *Service, flushEvery time.Duration) *msgLog {
	return &msgLog{s: s, ch: make(chan entry, bufferSize), flushEvery: flushEvery,
		idPrefix: strings.ToLower(rand.Text()[:8])}
}

// SetFlushEvery changes how often the log is written (tests, benchmarks);
// call it before Run.
func (s *Service) SetFlushEvery(d time.Duration) {
	if d > 0 {
		s.msg.flushEvery = d
	}
}

// nextID is unique across processes (a random prefix per process) and sorts
// by time within one.
func (l *msgLog) nextID(at time.Time) string {
	return strconv.FormatInt(at.UnixMicro(), 36) + l.idPrefix + strconv.FormatUint(l.seq.Add(1), 36)
}

// add queues e, waiting for room when the buffer is full. After the writer
// has stopped, e is written at once.
func (l *msgLog) add(e entry) {
	l.mu.RLock()
	if !l.stopped {
		l.ch <- e
		l.mu.RUnlock()
		return
	}
	l.mu.RUnlock()
	if err := l.write(context.Background(), []entry{e}); err != nil {
		l.s.log.Error("gateway message log: a late record could not be written", "err", err)
	}
}

// run writes batches until ctx is done, then drains the buffer.
func (l *msgLog) run(ctx context.Context) {
	t := time.NewTicker(l.flushEvery)
	defer t.Stop()
	batch := make([]entry, 0, batchMax)
	// flush writes the batch, trying again each second while the database
	// refuses it. On the final drain it gives up after finalTries, saying how
	// many records it could not keep.
	flush := func(final bool) {
		for try := 1; len(batch) > 0; try++ {
			err := l.write(context.WithoutCancel(ctx), batch)
			if err == nil {
				batch = batch[:0]
				return
			}
			l.s.metrics().logErrors.Inc()
			if final && try >= finalTries {
				l.s.log.Error("gateway message log: records lost at shutdown, the database refused them", "records", len(batch), "err", err)
				batch = batch[:0]
				return
			}
			l.s.log.Error("gateway message log write failed; retrying", "records", len(batch), "err", err)
			if final {
				time.Sleep(time.Second)
				continue
			}
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
				return // the final drain takes the batch, with its bounded tries
			}
		}
	}
	for {
		select {
		case e := <-l.ch:
			batch = append(batch, e)
			if len(batch) >= batchMax {
				flush(false)
			}
		case <-t.C:
			flush(false)
		case <-ctx.Done():
			// Stop taking records through the channel, then write what is
			// left. Senders hold the read lock while they wait for room, so
			// keep taking records until the lock is ours.
			for !l.mu.TryLock() {
				select {
				case e := <-l.ch:
					batch = append(batch, e)
				case <-time.After(time.Millisecond):
				}
			}
			l.stopped = true
			l.mu.Unlock()
			for len(l.ch) > 0 {
				batch = append(batch, <-l.ch)
				if len(batch) >= batchMax {
					flush(true)
				}
			}
			flush(true)
			return
		}
	}
}

// vnDay is the calendar day in Vietnam (UTC+7) as yyyymmdd.
func vnDay(t time.Time) int64 {
	y, m, d := t.UTC().Add(7 * time.Hour).Date()
	return int64(y*10000 + int(m)*100 + d)
}

type usageKey struct {
	day                         int64
	service, consumer, upstream string
}

type usageSum struct{ calls, errors, last int64 }

// placeholders returns "(…), (…)" for rows of cols values, numbered for
// PostgreSQL and positional for SQLite.
func placeholders(d db.Dialect, rows, cols int) string {
	var b strings.Builder
	n := 0
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteString(", ")
			}
			n++
			if d == db.Postgres {
				b.WriteString("$" + strconv.Itoa(n))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// insertMessages is the INSERT of n records. On SQLite it is INSERT OR FAIL:
// a plain INSERT of many rows inside a transaction makes SQLite keep a
// statement journal to undo that one statement, which cost more than a tenth
// of the gateway's time under load; a failure rolls the whole batch back
// either way.
func insertMessages(d db.Dialect, n int) string {
	verb := "INSERT INTO"
	if d != db.Postgres {
		verb = "INSERT OR FAIL INTO"
	}
	return verb + ` xchg_message (id, at, consumer_id, service_code, method, path, status, latency_us, bytes_in, bytes_out,
request_id, upstream, problem) VALUES ` + placeholders(d, n, 13)
}

// write stores a batch in one transaction: the records, the day's usage and
// the shadow comparisons.
func (l *msgLog) write(ctx context.Context, batch []entry) error {
	var msgs []*Message
	var diffs []*ShadowDiff
	usage := map[usageKey]*usageSum{}
	type shadowKey struct {
		day     int64
		service string
	}
	shadows := map[shadowKey]*[2]int64{}
	for _, e := range batch {
		if m := e.msg; m != nil {
			msgs = append(msgs, m)
			if m.ServiceCode == "" || m.ConsumerID == "" {
				continue
			}
			k := usageKey{vnDay(m.At), m.ServiceCode, m.ConsumerID, m.Upstream}
			u := usage[k]
			if u == nil {
				u = &usageSum{}
				usage[k] = u
			}
			u.calls++
			if m.Status >= 500 {
				u.errors++
			}
			u.last = max(u.last, db.Micros(m.At))
		}
		if d := e.shadow; d != nil {
			k := shadowKey{vnDay(d.At), d.ServiceCode}
			c := shadows[k]
			if c == nil {
				c = &[2]int64{}
				shadows[k] = c
			}
			c[0]++
			if d.Reason != "" {
				c[1]++
				diffs = append(diffs, d)
			}
		}
	}
	err := l.s.db.InTx(ctx, func(tx *db.Tx) error {
		for start := 0; start < len(msgs); start += insertRows {
			part := msgs[start:min(start+insertRows, len(msgs))]
			args := make([]any, 0, len(part)*13)
			for _, m := range part {
				args = append(args, m.ID, db.Micros(m.At), m.ConsumerID, m.ServiceCode, m.Method, m.Path, m.Status,
					m.Latency.Microseconds(), m.BytesIn, m.BytesOut, m.RequestID, m.Upstream, m.Problem)
			}
			if _, err := tx.ExecContext(ctx, insertMessages(tx.Dialect(), len(part)), args...); err != nil {
				return fmt.Errorf("insert messages: %w", err)
			}
		}
		// In one order everywhere, so two gateway processes writing the same
		// rows never deadlock on PostgreSQL.
		for _, k := range slices.SortedFunc(maps.Keys(usage), func(a, b usageKey) int {
			return cmp.Or(cmp.Compare(a.day, b.day), cmp.Compare(a.service, b.service), cmp.Compare(a.consumer, b.consumer),
				cmp.Compare(a.upstream, b.upstream))
		}) {
			u := usage[k]
			if _, err := tx.ExecContext(ctx, `INSERT INTO xchg_usage (day, service_code, consumer_id, upstream, calls, errors, last_at)
VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (day, service_code, consumer_id, upstream) DO UPDATE SET
calls = xchg_usage.calls + excluded.calls, errors = xchg_usage.errors + excluded.errors,
last_at = CASE WHEN excluded.last_at > xchg_usage.last_at THEN excluded.last_at ELSE xchg_usage.last_at END`,
				k.day, k.service, k.consumer, k.upstream, u.calls, u.errors, u.last); err != nil {
				return fmt.Errorf("usage: %w", err)
			}
		}
		for _, k := range slices.SortedFunc(maps.Keys(shadows), func(a, b shadowKey) int {
			return cmp.Or(cmp.Compare(a.day, b.day), cmp.Compare(a.service, b.service))
		}) {
			c := shadows[k]
			if _, err := tx.ExecContext(ctx, `INSERT INTO xchg_shadow_day (day, service_code, compared, differed) VALUES ($1, $2, $3, $4)
ON CONFLICT (day, service_code) DO UPDATE SET compared = xchg_shadow_day.compared + excluded.compared,
differed = xchg_shadow_day.differed + excluded.differed`, k.day, k.service, c[0], c[1]); err != nil {
				return fmt.Errorf("shadow counts: %w", err)
			}
		}
		for _, d := range diffs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO xchg_shadow_diff (id, at, service_code, consumer_id, method, path, request_id,
legacy_status, new_status, legacy_bytes, new_bytes, legacy_sample, new_sample, reason)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`, d.ID, db.Micros(d.At), d.ServiceCode, d.ConsumerID,
				d.Method, d.Path, d.RequestID, d.LegacyStatus, d.NewStatus, d.LegacyBytes, d.NewBytes, d.LegacySample, d.NewSample,
				d.Reason); err != nil {
				return fmt.Errorf("shadow diff: %w", err)
			}
		}
		return nil
	})
	if err == nil {
		l.s.metrics().logWritten.Add(float64(len(msgs)))
	}
	return err
}

// MessageFilter narrows the message log. Zero fields match everything.
type MessageFilter struct {
	Service     string
	ConsumerID  string
	Method      string
	RequestID   string
	StatusClass int // 2, 3, 4 or 5
	From, To    time.Time
	After       string // the cursor Messages returned: the next page
	Limit       int    // 1–500; 0: 50
}

// Messages returns the newest matching records first, and a cursor for the
// next page ("" when there is none).
func (s *Service) Messages(ctx context.Context, f MessageFilter) ([]Message, string, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Service != "" {
		where = append(where, "service_code = "+arg(f.Service))
	}
	if f.ConsumerID != "" {
		where = append(where, "consumer_id = "+arg(f.ConsumerID))
	}
	if f.Method != "" {
		where = append(where, "method = "+arg(strings.ToUpper(f.Method)))
	}
	if f.RequestID != "" {
		where = append(where, "request_id = "+arg(f.RequestID))
	}
	if f.StatusClass >= 1 && f.StatusClass <= 5 {
		where = append(where, "status >= "+arg(f.StatusClass*100)+" AND status < "+arg(f.StatusClass*100+100))
	}
	if !f.From.IsZero() {
		where = append(where, "at >= "+arg(db.Micros(f.From)))
	}
	if !f.To.IsZero() {
		where = append(where, "at < "+arg(db.Micros(f.To)))
	}
	if at, id, ok := parseCursor(f.After); ok {
		where = append(where, "(at < "+arg(at)+" OR (at = "+arg(at)+" AND id < "+arg(id)+"))")
	}
	q := `SELECT id, at, consumer_id, service_code, method, path, status, latency_us, bytes_in, bytes_out, request_id, upstream,
problem FROM xchg_message`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY at DESC, id DESC LIMIT " + strconv.Itoa(f.Limit+1)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("messages: %w", err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		var at, lat int64
		if err := rows.Scan(&m.ID, &at, &m.ConsumerID, &m.ServiceCode, &m.Method, &m.Path, &m.Status, &lat, &m.BytesIn,
			&m.BytesOut, &m.RequestID, &m.Upstream, &m.Problem); err != nil {
			return nil, "", fmt.Errorf("messages: %w", err)
		}
		m.At, m.Latency = db.FromMicros(at), time.Duration(lat)*time.Microsecond
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("messages: %w", err)
	}
	next := ""
	if len(out) > f.Limit {
		out = out[:f.Limit]
		last := out[len(out)-1]
		next = strconv.FormatInt(db.Micros(last.At), 10) + "." + last.ID
	}
	return out, next, nil
}

func parseCursor(c string) (int64, string, bool) {
	a, id, ok := strings.Cut(c, ".")
	if !ok || id == "" || len(id) > 64 {
		return 0, "", false
	}
	at, err := strconv.ParseInt(a, 10, 64)
	return at, id, err == nil
}

// Purge deletes log records and shadow differences older than the cutoff, in
// batches so the log keeps being written meanwhile. The daily usage and the
// shadow counts stay. It returns how many records went.
func (s *Service) Purge(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for _, t := range []string{"xchg_message", "xchg_shadow_diff"} {
		for {
			res, err := s.db.ExecContext(ctx, `DELETE FROM `+t+` WHERE id IN (SELECT id FROM `+t+` WHERE at < $1 LIMIT 5000)`,
				db.Micros(before))
			if err != nil {
				return total, fmt.Errorf("purge %s: %w", t, err)
			}
			n, _ := res.RowsAffected()
			if t == "xchg_message" {
				total += n
			}
			if n < 5000 {
				break
			}
		}
	}
	return total, nil
}
