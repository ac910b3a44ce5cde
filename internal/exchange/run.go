package exchange

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// purgeEvery is how often the message log's retention is applied.
const purgeEvery = time.Hour

// SetRetention sets how many days the message log keeps (at least 1).
func (s *Service) SetRetention(days int) {
	s.retention.Store(int64(max(1, days)))
}

// Retention is how many days the message log keeps.
func (s *Service) Retention() int { return int(s.retention.Load()) }

// Run keeps the gateway's background work going until ctx is done: the
// message-log writer, the catalogue poll, the upstream health checks and the
// log's retention. Cancel ctx only after the gateway's HTTP server has shut
// down: Run then waits for the shadow comparisons under way (up to
// shadowWait) and writes every record still buffered before it returns.
func (s *Service) Run(ctx context.Context) {
	const shadowWait = 10 * time.Second
	wctx, stopWriter := context.WithCancel(context.WithoutCancel(ctx))
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		s.msg.run(wctx)
	}()
	var wg sync.WaitGroup
	loop := func(every time.Duration, fn func(context.Context)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				fn(ctx)
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
	}
	client := &http.Client{Timeout: healthTimeout, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2}}
	loop(pollEvery, s.pollCatalog)
	loop(nodeEvery, s.heartbeat)
	loop(healthEvery, func(ctx context.Context) { s.checkHealth(ctx, client) })
	loop(purgeEvery, func(ctx context.Context) {
		cutoff := s.db.Now().AddDate(0, 0, -s.Retention())
		if n, err := s.Purge(ctx, cutoff); err != nil {
			if ctx.Err() == nil {
				s.log.Error("gateway message log retention failed", "err", err)
			}
		} else if n > 0 {
			s.log.Info("gateway message log purged", "records", n, "before", cutoff)
		}
	})
	<-ctx.Done()
	wg.Wait()
	s.leave(context.WithoutCancel(ctx))
	s.waitShadows(shadowWait)
	stopWriter()
	<-writerDone
}
