package main

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// control sends GET /healthz, which no middleware guards, to the
// replicas at a twentieth of the rate, besides the traffic, and times the
// answers outside faults: what an HTTP exchange with a replica costs on
// this machine under the same load, beside which the cached validations'
// tail is read.
func (s *soak) control(ctx context.Context) {
	t := time.NewTicker(time.Second / time.Duration(max(1, s.cfg.rate/20)))
	defer t.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		wg.Go(s.controlOne)
	}
}

func (s *soak) controlOne() {
	_, r := s.pickReplica(-1)
	if r == nil {
		return
	}
	req, _ := http.NewRequest(http.MethodGet, r.url+"/healthz", nil)
	start := time.Now()
	status := s.send(req)
	end := time.Now()
	if status == http.StatusOK && !s.faulty(start, end) {
		s.mu.Lock()
		s.floor.timed(end.Sub(start))
		s.mu.Unlock()
	}
}
