package exchange

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The circuit breaker: an upstream that failed breakerTrips times in a row
// (no connection, no answer in time, or 502/503/504) is skipped for
// breakerOpen; then one call is let through to try it, and its outcome
// closes or reopens the circuit. A health check that passes closes it too.
const (
	breakerTrips  = 5
	healthEvery   = 5 * time.Second
	healthTimeout = 2 * time.Second
)

// breakerOpen is how long an open circuit skips its upstream (a variable so
// tests need not wait).
var breakerOpen = 10 * time.Second

// upstream is what this process knows of one upstream base URL.
type upstream struct {
	url       string
	fails     atomic.Int32
	openUntil atomic.Int64 // unix nanoseconds; 0: closed
	trial     atomic.Bool  // a half-open trial call is out
	unhealthy atomic.Bool  // the last health check failed
	checked   atomic.Int64 // unix nanoseconds of the last health check
}

type upstreams struct {
	m sync.Map // base URL → *upstream
}

func (u *upstreams) get(base string) *upstream {
	if v, ok := u.m.Load(base); ok {
		return v.(*upstream)
	}
	v, _ := u.m.LoadOrStore(base, &upstream{url: base})
	return v.(*upstream)
}

// UpstreamState is an upstream's state as the pages show it.
type UpstreamState struct {
	URL       string
	Open      bool // the circuit is open: calls skip it
	Unhealthy bool
	Fails     int
	Checked   time.Time
}

// State returns what this process knows of base.
func (s *Service) State(base string) UpstreamState {
	u := s.ups.get(base)
	st := UpstreamState{URL: base, Open: u.open(time.Now()), Unhealthy: u.unhealthy.Load(), Fails: int(u.fails.Load())}
	if c := u.checked.Load(); c > 0 {
		st.Checked = time.Unix(0, c)
	}
	return st
}

// open reports whether calls should skip the upstream now.
func (u *upstream) open(now time.Time) bool {
	until := u.openUntil.Load()
	return until != 0 && now.UnixNano() < until
}

// usable reports whether a call may go to u now: its circuit is closed, or it
// is due for its one trial call, which this caller then takes (trial is u
// then, nil otherwise).
func (u *upstream) usable(now time.Time) (ok bool, trial *upstream) {
	until := u.openUntil.Load()
	if until == 0 {
		return !u.unhealthy.Load(), nil
	}
	if now.UnixNano() < until || !u.trial.CompareAndSwap(false, true) {
		return false, nil
	}
	return true, u
}

func (u *upstream) succeeded() {
	u.fails.Store(0)
	u.openUntil.Store(0)
	u.trial.Store(false)
	u.unhealthy.Store(false)
}

func (u *upstream) failed(now time.Time) (tripped bool) {
	n := u.fails.Add(1)
	if u.trial.Load() || n >= breakerTrips {
		tripped = u.openUntil.Load() == 0
		u.openUntil.Store(now.Add(breakerOpen).UnixNano())
		u.trial.Store(false)
	}
	return tripped
}

// healthURL is where base answers health checks.
func healthURL(base, path string) string {
	if path == "" {
		return base
	}
	return strings.TrimSuffix(base, "/") + path
}

// checkHealth calls every active service's upstreams once. An upstream that
// answers below 500 is healthy; one that cannot be reached or answers 5xx is
// marked so, and calls try the other upstream first until it recovers.
func (s *Service) checkHealth(ctx context.Context, client *http.Client) {
	p, err := s.catalog(ctx)
	if err != nil {
		return
	}
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for _, d := range p.services {
		if d.Status != Active {
			continue
		}
		for _, base := range []string{d.PrimaryURL, d.BackupURL} {
			if base == "" || seen[base] {
				continue
			}
			seen[base] = true
			wg.Add(1)
			go func(base, path string) {
				defer wg.Done()
				s.checkOne(ctx, client, base, path)
			}(base, d.HealthPath)
		}
	}
	wg.Wait()
}

func (s *Service) checkOne(ctx context.Context, client *http.Client, base, path string) {
	u := s.ups.get(base)
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	ok := false
	if _, err := url.Parse(healthURL(base, path)); err == nil {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, healthURL(base, path), nil)
		if err == nil {
			req.Header.Set("User-Agent", "hopnhat-gateway-health")
			if resp, err := client.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
				resp.Body.Close()
				ok = resp.StatusCode < 500
			}
		}
	}
	u.checked.Store(time.Now().UnixNano())
	was := u.unhealthy.Load()
	if ok {
		if was || u.openUntil.Load() != 0 {
			s.log.InfoContext(ctx, "gateway upstream healthy again", "upstream", base)
		}
		u.succeeded()
	} else {
		u.unhealthy.Store(true)
		if !was {
			s.log.WarnContext(ctx, "gateway upstream failed its health check", "upstream", base)
		}
	}
	s.metrics().upstreamUp.WithLabelValues(base).Set(map[bool]float64{true: 1, false: 0}[ok])
}
