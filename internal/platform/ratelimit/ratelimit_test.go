package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

func TestRateLimiter(t *testing.T) {
	now := time.Date(2025, 9, 1, 9, 0, 0, 0, time.UTC)
	l := New(10, 10, 100, func() time.Time { return now })

	for i := range 10 {
		if ok, _ := l.Allow("203.0.113.7"); !ok {
			t.Fatalf("lookup %d of the burst: refused, want allowed", i+1)
		}
	}
	ok, wait := l.Allow("203.0.113.7")
	if ok {
		t.Fatal("11th lookup in the same instant: allowed, want refused")
	}
	if wait != 6*time.Second {
		t.Errorf("wait after the burst: got %v, want 6s (one token every 6 s)", wait)
	}
	if ok, _ := l.Allow("203.0.113.8"); !ok {
		t.Error("another client: refused, want its own rateBucket")
	}

	now = now.Add(5 * time.Second)
	if ok, _ := l.Allow("203.0.113.7"); ok {
		t.Error("5 s later: allowed, want still refused")
	}
	now = now.Add(time.Second)
	if ok, _ := l.Allow("203.0.113.7"); !ok {
		t.Error("6 s later: refused, want one token back")
	}
	if ok, _ := l.Allow("203.0.113.7"); ok {
		t.Error("the token came back once: a second lookup was allowed")
	}

	// A minute idle fills the rateBucket: the client is forgotten.
	now = now.Add(time.Minute)
	l.Allow("198.51.100.1")
	if n := l.Len(); n != 1 {
		t.Errorf("clients remembered after a minute idle: got %d, want 1", n)
	}
	for i := range 10 {
		if ok, _ := l.Allow("203.0.113.7"); !ok {
			t.Fatalf("after a minute idle, lookup %d: refused, want a full burst", i+1)
		}
	}
}

func TestRateLimiterBoundsMemory(t *testing.T) {
	now := time.Date(2025, 9, 1, 9, 0, 0, 0, time.UTC)
	l := New(10, 10, 50, func() time.Time { return now })
	for i := range 1000 {
		l.Allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256))
		now = now.Add(time.Millisecond)
	}
	if n := l.Len(); n != 50 {
		t.Errorf("clients remembered: got %d, want the bound 50", n)
	}
	// The most recent clients are the ones kept.
	for range 10 {
		l.Allow("10.0.3.231")
	}
	if ok, _ := l.Allow("10.0.3.231"); ok {
		t.Error("a recent client's rateBucket was forgotten")
	}
}

func TestClientKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"203.0.113.7", "203.0.113.7"},
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{"2001:db8:1:2:aaaa::1", "2001:db8:1::/56"},
		{"2001:db8:1:ff:bbbb::9", "2001:db8:1::/56"}, // another /64 of the same /56
		{"2001:db8:1:100::9", "2001:db8:1:100::/56"},
		{"not an address", "not an address"},
	} {
		if got := ClientKey(tc.in); got != tc.want {
			t.Errorf("ClientKey(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}
