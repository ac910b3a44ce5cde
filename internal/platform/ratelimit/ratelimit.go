// Package ratelimit is an in-memory token bucket per client, bounded in memory.
package ratelimit

import (
	"container/list"
	"math"
	"net/netip"
	"sync"
	"time"
)

// Limiter is a token bucket per client: each starts full with burst
// tokens, a request takes one, and tokens come back at perMinute a minute up
// to burst. Memory is bounded: at most max clients are remembered, the least
// recently seen forgotten first, and a client idle long enough to have a full
// bucket again is forgotten, which changes nothing for it.
type Limiter struct {
	perMinute float64
	burst     float64
	max       int
	now       func() time.Time

	mu      sync.Mutex
	lru     *list.List // of *rateBucket, the most recently seen first
	buckets map[string]*list.Element
}

type rateBucket struct {
	key       string
	tokens    float64
	last      time.Time // when tokens was computed
	perMinute float64
	burst     float64
}

// New allows perMinute requests a minute per client, burst at once,
// remembering at most max clients. A nil now is time.Now.
func New(perMinute, burst, max int, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{perMinute: float64(perMinute), burst: float64(burst), max: max, now: now,
		lru: list.New(), buckets: map[string]*list.Element{}}
}

// Allow takes a token from key's bucket. When there is none it returns false
// and how long until there is one.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	return l.AllowRate(key, l.perMinute, l.burst)
}

// AllowRate is Allow with this client's own rate, for limits that differ
// per client (a consumer's grant). A changed rate applies from the next call.
func (l *Limiter) AllowRate(key string, perMinute, burst float64) (bool, time.Duration) {
	if perMinute <= 0 || burst < 1 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.forgetIdle(now)
	var b *rateBucket
	if e, ok := l.buckets[key]; ok {
		b = e.Value.(*rateBucket)
		l.lru.MoveToFront(e)
		if dt := now.Sub(b.last).Seconds(); dt > 0 {
			b.tokens = math.Min(b.burst, b.tokens+dt*b.perMinute/60)
		}
		b.last = now
		if b.perMinute != perMinute || b.burst != burst {
			// A raised limit gives its extra calls at once; a lowered one
			// takes them away.
			b.tokens = math.Max(0, math.Min(burst, b.tokens+burst-b.burst))
			b.perMinute, b.burst = perMinute, burst
		}
	} else {
		for l.lru.Len() >= l.max {
			l.remove(l.lru.Back())
		}
		b = &rateBucket{key: key, tokens: burst, last: now, perMinute: perMinute, burst: burst}
		l.buckets[key] = l.lru.PushFront(b)
	}
	// A token refilled in several steps may add up to a hair under one.
	if b.tokens >= 1-1e-9 {
		b.tokens = max(b.tokens-1, 0)
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) * 60 / perMinute * float64(time.Second))
	return false, wait
}

// forgetIdle drops the clients, least recently seen first, whose bucket has
// filled up again.
func (l *Limiter) forgetIdle(now time.Time) {
	for e := l.lru.Back(); e != nil; e = l.lru.Back() {
		b := e.Value.(*rateBucket)
		if now.Sub(b.last) < time.Duration(b.burst*60/b.perMinute*float64(time.Second)) {
			return
		}
		l.remove(e)
	}
}

func (l *Limiter) remove(e *list.Element) {
	delete(l.buckets, e.Value.(*rateBucket).key)
	l.lru.Remove(e)
}

// Len is how many clients are remembered.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// ClientKey is the bucket a client address falls in: an IPv4 address, or the
// /56 network of an IPv6 one, since one subscriber usually holds a /56 (or a
// /64) and could otherwise take a fresh address per request.
func ClientKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		if len(addr) > 64 {
			addr = addr[:64]
		}
		return addr
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(56)
		return p.String()
	}
	return a.String()
}
