package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/debug"
	"slices"
	"syscall"
	"time"

	"github.com/accesstoken/bearer/bearertest"
)

// mark is a fault event, for the plot.
type mark struct {
	at   time.Duration
	name string
}

func (s *soak) mark(name string) {
	s.series.mu.Lock()
	s.series.marks = append(s.series.marks, mark{s.since(time.Now()), name})
	s.series.mu.Unlock()
}

// sleepUntil waits until the fraction f of the run, or ctx's end.
func (s *soak) sleepUntil(ctx context.Context, f float64) bool {
	t := time.NewTimer(time.Until(s.t0.Add(time.Duration(f * float64(s.cfg.duration)))))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// rotate gives each algorithm of the traffic a new key every 30 s (a
// quarter of a shorter run), the old ones staying published as in a real
// rollover, and mints the pools of that algorithm again with it. The
// algorithms take turns, a quarter of the period apart, as an authority's
// keys age independently: the driver, which is the authority too,
// generates one key at a time instead of four (two of them RSA) at once.
func (s *soak) rotate(ctx context.Context) {
	algs := []string{"RS256", "PS256", "ES256", "EdDSA"}
	every := min(30*time.Second, s.cfg.duration/4)
	t := time.NewTicker(every / time.Duration(len(algs)))
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		alg := algs[n%len(algs)]
		idle(func() {
			s.a.RotateKey(alg)
			s.pools.mint(s.a, s.dpopKeys, alg)
		})
		s.mark("rotation")
	}
}

// faults runs the schedule, at fractions of the run: the first tenth is
// the warm-up, the last fifth the recovery.
func (s *soak) faults(ctx context.Context, logf func(string, ...any)) {
	a := s.a
	endpoints := []bearertest.Endpoint{bearertest.JWKS, bearertest.Discovery, bearertest.Metadata}
	clear := func() {
		for _, e := range endpoints {
			a.SetStatus(e, 0)
			a.SetDelay(e, 0)
			a.SetBody(e, nil)
		}
	}
	step := func(f float64, name string) bool {
		if !s.sleepUntil(ctx, f) {
			return false
		}
		logf("%v: %s", s.since(time.Now()).Round(time.Second), name)
		s.mark(name)
		return true
	}

	// JWKS and discovery flap: errors, answers after the replicas'
	// timeout, slow answers, truncated JSON, good ones, 1.5 s each.
	if !step(0.12, "JWKS and discovery flapping") {
		return
	}
	end := s.open("authority", "JWKS and discovery flapping", -1)
	flap := time.NewTicker(1500 * time.Millisecond)
	for i := 0; s.since(time.Now()) < time.Duration(0.24*float64(s.cfg.duration)); i++ {
		clear()
		for _, e := range endpoints {
			switch i % 5 {
			case 0:
				a.SetStatus(e, http.StatusInternalServerError)
			case 1:
				a.SetDelay(e, 8*time.Second) // past the replicas' 5 s Timeout
			case 2:
				a.SetDelay(e, 1500*time.Millisecond)
			case 3:
				a.SetBody(e, []byte(`{"keys": [`))
			}
		}
		select {
		case <-ctx.Done():
			flap.Stop()
			clear()
			end()
			return
		case <-flap.C:
		}
	}
	flap.Stop()
	clear()
	end()
	s.mark("JWKS and discovery back")

	if !step(0.30, "introspection down (503)") {
		return
	}
	end = s.open("authority", "introspection down", -1)
	a.SetStatus(bearertest.Introspection, http.StatusServiceUnavailable)
	if !step(0.36, "introspection back") {
		return
	}
	a.SetStatus(bearertest.Introspection, 0)
	end()
	if !step(0.38, "introspection slow (2 s)") {
		return
	}
	end = s.open("authority", "introspection slow", -1)
	a.SetDelay(bearertest.Introspection, 2*time.Second)
	if !step(0.44, "introspection fast again") {
		return
	}
	a.SetDelay(bearertest.Introspection, 0)
	end()

	if s.cfg.redis == "single" {
		if !step(0.50, "Redis killed") {
			return
		}
		end = s.open("redis", "Redis down", -1)
		s.redis.kill()
		s.seen.emptied()
		if !step(0.55, "Redis restarted, empty") {
			return
		}
	} else {
		if !step(0.50, "Redis primary killed") {
			return
		}
		end = s.open("redis", "Redis failing over", -1)
		s.redis.kill()
	}
	if err := s.redis.recover(); err != nil {
		logf("Redis did not recover: %v", err)
	}
	end()
	s.mark("Redis back")

	if !step(0.65, "replica restarted") {
		return
	}
	last := len(s.replicas) - 1
	r := s.replicas[last]
	end = s.open("replica", "replica restarted", last)
	r.ready.Store(false)
	time.Sleep(200 * time.Millisecond) // requests under way finish
	r.stop(syscall.SIGTERM)
	s.seen.restarted(last)
	if err := startReplica(r, s.ctl); err != nil {
		logf("replica did not start again: %v", err)
	}
	end()
	s.mark("replica ready")

	if !step(0.75, "authority down (every endpoint 503)") {
		return
	}
	end = s.open("authority", "authority down", -1)
	a.SetDown(true)
	if !step(0.80, "authority back") {
		return
	}
	a.SetDown(false)
	end()
}

// signOuts signs a session out every second (every sixtieth of a shorter
// run) through the back-channel logout of a replica, as the authority
// does when a user signs out, and replaces it with a new one.
func (s *soak) signOuts(ctx context.Context) {
	t := time.NewTicker(min(time.Second, s.cfg.duration/60))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		se := s.active[0]
		s.active = append(s.active[1:], s.newSession())
		s.mu.Unlock()
		s.wg.Go(func() { s.signOut(ctx, se) })
	}
}

// signOut posts a logout token for se until a replica acknowledges it
// (a replica answers 503 while it cannot record it, and the authority
// tries again, as its spec says), then watches every replica refuse the
// session's token, for the propagation times.
func (s *soak) signOut(ctx context.Context, se *sess) {
	se.started.Store(time.Now().UnixNano())
	for {
		if _, r := s.pickReplica(-1); r != nil {
			lt := s.a.LogoutToken(bearertest.Payload{"sid": se.id, "sub": "user-" + se.id})
			resp, err := s.a.PostLogout(r.url+"/backchannel-logout", lt)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 == 2 {
					break
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
	at := time.Now()
	se.at.Store(at.UnixNano())
	s.mu.Lock()
	s.out = append(s.out, se)
	if len(s.out) > signedOutKept {
		s.out = s.out[1:]
	}
	s.mu.Unlock()
	for i, r := range s.replicas {
		s.wg.Go(func() { s.probe(ctx, i, r, se, at) })
	}
}

// probe presents se's token to r every 10 ms until it is refused, and
// records when: the revocation arrived after the last request accepted
// began, and before the first refused ended (a busy machine widens the
// bracket). Each probe is judged too.
func (s *soak) probe(ctx context.Context, i int, r *replica, se *sess, at time.Time) {
	accepted := at // the start of the last request accepted
	for ctx.Err() == nil && time.Since(at) < time.Minute {
		if !r.ready.Load() {
			return // restarted: it replays the revocations before it is ready
		}
		req, _ := http.NewRequest(http.MethodGet, r.url+"/values", nil)
		req.Header.Set("Authorization", "Bearer "+se.token)
		start := time.Now()
		status := s.send(req)
		s.judge(session, i, req, start, time.Now(), status, se, time.Time{})
		if status == http.StatusUnauthorized {
			s.mu.Lock()
			s.props = append(s.props, propagation{at, accepted, time.Now(), i})
			s.mu.Unlock()
			return
		}
		if status == http.StatusOK {
			accepted = start
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sampleLoop records each replica's memory, files, goroutines, CPU and
// cached validations, the CPU the driver and Redis use, and the
// authority's counts, every second.
func (s *soak) sampleLoop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	// What the last sample of each process said: the counts are since
	// the process started, and a replica restarted starts them again.
	type last struct {
		pid        int64
		cpu, pause float64
		hits       map[string]map[float64]float64
	}
	prev := make([]last, len(s.replicas))
	redisCPU := map[int64]float64{}
	self := int64(os.Getpid())
	driverCPU := cpuSeconds(self)
	var gc debug.GCStats
	debug.ReadGCStats(&gc)
	driverPause := gc.PauseTotal
	s.own, s.ownQuiet = map[string]map[float64]float64{"jwt": {}, "opaque": {}}, map[string]map[float64]float64{"jwt": {}, "opaque": {}}
	var conns connCounter
	before := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		sec := int(s.since(now) / time.Second)
		quiet := !s.faulty(before, now)
		established := conns.established()
		for i, r := range s.replicas {
			u, ok := sample(r, s.ctl)
			if !ok {
				continue
			}
			u.conns = established[r.port]
			p := prev[i]
			if pid := r.pid.Load(); pid != p.pid {
				p = last{pid: pid}
			}
			s.series.usage(sec, i, u, u.cpu-p.cpu, u.gcPause-p.pause)
			s.mu.Lock()
			for format, h := range u.hits {
				for le, n := range h {
					s.own[format][le] += n - p.hits[format][le]
					if quiet {
						s.ownQuiet[format][le] += n - p.hits[format][le]
					}
				}
			}
			s.mu.Unlock()
			prev[i] = last{p.pid, u.cpu, u.gcPause, u.hits}
		}
		redis := 0.0
		for _, p := range append(slices.Clone(s.redis.servers), s.redis.sentinels...) {
			if pid := p.pid.Load(); pid != 0 {
				c := cpuSeconds(pid)
				redis += c - redisCPU[pid]
				redisCPU[pid] = c
			}
		}
		c := cpuSeconds(self)
		debug.ReadGCStats(&gc)
		s.series.driver(sec, c-driverCPU, redis, (gc.PauseTotal - driverPause).Seconds())
		driverCPU, driverPause = c, gc.PauseTotal
		s.series.hits(sec, s.a.Hits(bearertest.JWKS), s.a.Hits(bearertest.Discovery)+s.a.Hits(bearertest.Metadata), s.a.Hits(bearertest.Introspection))
		before = now
	}
}

func (m mark) String() string { return fmt.Sprintf("%v %s", m.at.Round(time.Second), m.name) }
