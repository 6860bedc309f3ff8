package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/accesstoken/bearer/bearertest"
)

type config struct {
	duration time.Duration
	rate     int
	replicas int
	redis    string // single, sentinel or cluster
	race     bool
	procs    int // the replicas' GOMAXPROCS; 0: the runtime's default
	bound    time.Duration
	out      string
	repo     string
	log      io.Writer
}

const (
	// grace is how long after a fault ends a 503 for a good token is
	// still allowed: the replicas retry the authority with backoff.
	grace = 5 * time.Second
	// redisBack is how long after Redis answers again each Store has
	// reconnected: its backoff's cap.
	redisBack = 500 * time.Millisecond
	// sessions are how many sessions are live at once.
	sessions = 32
	// signedOutKept are how many signed-out sessions are still presented:
	// a few minutes' worth, so that those signed out before Redis was
	// restarted empty are presented to the replica restarted after it.
	signedOutKept = 256
)

// window is a fault in force from from to to (zero while it lasts).
type window struct {
	kind     string // "authority", "redis" or "replica"
	name     string
	replica  int // for "replica"
	from, to time.Time
}

type soak struct {
	cfg      config
	t0       time.Time
	a        *bearertest.Authority
	redis    *redisSetup
	replicas []*replica
	client   *http.Client // traffic
	ctl      *http.Client // readiness, samples
	pools    pools
	dpopKeys []*bearertest.DPoPKey
	nextSess atomic.Int64
	rr       atomic.Uint64
	dropped  atomic.Int64
	wg       sync.WaitGroup // sign-outs under way

	mu      sync.Mutex
	windows []window
	active  []*sess
	out     []*sess
	wrongs  []wrong
	props   []propagation
	load0   string // load average at the start
	stats   [nClasses]classStats
	quiet   classStats // validations answered from a cache, outside faults
	seen    *seen      // which those are
	floor   classStats // GET /healthz, outside faults (control.go)
	// own and ownQuiet are the replicas' own durations of validations
	// answered from their caches, in the whole run and outside faults:
	// by token format, the count at or under each bucket's bound
	// (usage.hits), summed over the replicas.
	own, ownQuiet map[string]map[float64]float64
	series        *series
}

// wrong is one wrong verdict, with the request's fingerprint, never its
// token.
type wrong struct {
	at          time.Duration // since the start
	class       class
	replica     int
	status      int // -1: no answer
	fingerprint string
	why         string
}

// propagation is when a replica first refused a signed-out session's
// token.
type propagation struct {
	at       time.Time // acknowledged by a replica
	accepted time.Time // the last request this one accepted began
	refused  time.Time // the first it refused ended
	replica  int
}

func run(ctx context.Context, c config) (*report, error) {
	if c.log == nil {
		c.log = io.Discard
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "soak")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	logf := func(format string, args ...any) { fmt.Fprintf(c.log, "soak: "+format+"\n", args...) }
	logf("building examples/api (race %v)", c.race)
	bin, err := build(ctx, c.repo, dir, c.race)
	if err != nil {
		return nil, err
	}

	s := &soak{cfg: c, seen: newSeen(c.replicas)}
	s.client = &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
		// As many connections as requests under way, as an API's clients
		// would open: with a bound, requests held up by a fault (up to the
		// replicas' 5 s Timeout) held every connection and the others
		// queued in the driver, timed as the replicas' latency. Idle ones
		// are closed beyond 256 and after 10 s, so that the replicas'
		// goroutines and open files in quiet times measure the replicas,
		// not how many the driver opened during a fault.
		MaxIdleConnsPerHost: 256, IdleConnTimeout: 10 * time.Second}}
	s.ctl = &http.Client{Timeout: 5 * time.Second}
	defer s.client.CloseIdleConnections()
	s.a = bearertest.NewAuthority()
	defer s.a.Close()
	s.a.SetClient(clientID, clientSecret)
	for range 8 {
		s.dpopKeys = append(s.dpopKeys, bearertest.NewDPoPKey("ES256"))
	}
	s.pools.mint(s.a, s.dpopKeys, "")
	for range sessions {
		s.active = append(s.active, s.newSession())
	}

	s.redis, err = newRedisSetup(c.redis, dir)
	defer s.redis.stop()
	if err != nil {
		return nil, err
	}
	redisURL := s.redis.url()
	errs := make(chan error, c.replicas)
	for i := range c.replicas {
		r, err := newReplica(i, dir, bin, s.a.Issuer(), redisURL, c.procs)
		if err != nil {
			return nil, err
		}
		s.replicas = append(s.replicas, r)
		defer r.stop(syscall.SIGTERM)
		go func() { errs <- startReplica(r, s.ctl) }()
	}
	for range c.replicas {
		if err := <-errs; err != nil {
			return nil, err
		}
	}
	logf("%d replicas ready; %v of traffic at %d/s", c.replicas, c.duration, c.rate)

	s.load0 = loadavg()
	s.t0 = time.Now()
	s.series = newSeries(c.duration, c.replicas)
	until := s.t0.Add(c.duration)
	runCtx, cancel := context.WithDeadline(ctx, until)
	defer cancel()
	var bg sync.WaitGroup
	bg.Go(func() { s.sampleLoop(runCtx) })
	bg.Go(func() { s.rotate(runCtx) })
	bg.Go(func() { s.faults(runCtx, logf) })
	bg.Go(func() { s.signOuts(runCtx) })
	bg.Go(func() { s.control(runCtx) })
	s.traffic(runCtx)
	elapsed := time.Since(s.t0)
	bg.Wait()
	s.wg.Wait() // sign-outs and their probes, which end with runCtx

	var problems []string
	s.mu.Lock()
	wrong := len(s.wrongs) > 0
	s.mu.Unlock()
	for _, r := range s.replicas {
		r.ready.Store(false)
		r.stop(syscall.SIGTERM)
		p := raceOrPanic(r.log)
		if p != "" {
			problems = append(problems, fmt.Sprintf("%s: %q in its log", r.name, p))
		}
		// A wrong verdict's cause is in some replica's log (a failed
		// fetch of the keys, say): kept with the report.
		if p != "" || wrong {
			if b, err := os.ReadFile(r.log); err == nil {
				_ = os.WriteFile(filepath.Join(c.out, filepath.Base(r.log)), b, 0o644)
			}
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	rep := s.report(elapsed, problems)
	return rep, rep.write(c.out)
}

// since is t's offset from the start.
func (s *soak) since(t time.Time) time.Duration { return t.Sub(s.t0) }

// open starts a fault window and returns a function that ends it.
func (s *soak) open(kind, name string, replica int) func() {
	s.mu.Lock()
	s.windows = append(s.windows, window{kind: kind, name: name, replica: replica, from: time.Now()})
	i := len(s.windows) - 1
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.windows[i].to = time.Now()
		s.mu.Unlock()
	}
}

// allowed reports whether a good request of c to replica that ran from
// start to end may get a 503 or no answer: a fault it depends on was in
// force then, or ended less than grace before.
func (s *soak) allowed(c class, replica int, start, end time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.windows {
		switch {
		case w.kind == "redis" && !c.usesRedis(),
			w.kind == "replica" && w.replica != replica:
			continue
		}
		if w.from.Before(end) && (w.to.IsZero() || w.to.Add(grace).After(start)) {
			return true
		}
	}
	return false
}

// faulty reports whether any fault was in force between start and end,
// or had ended less than grace before.
func (s *soak) faulty(start, end time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.windows {
		if w.from.Before(end) && (w.to.IsZero() || w.to.Add(grace).After(start)) {
			return true
		}
	}
	return false
}

// redisDown reports whether Redis was down, or its Stores not yet back,
// at some moment between from and to.
func (s *soak) redisDown(from, to time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.windows {
		if w.kind == "redis" && w.from.Before(to) && (w.to.IsZero() || w.to.Add(redisBack).After(from)) {
			return true
		}
	}
	return false
}

// deadline is when a sign-out acknowledged at at must hold on every
// replica: the bound after it, or, if Redis was down meanwhile, the bound
// after its Stores are back. ok is false while that is not known yet.
func (s *soak) deadline(at time.Time) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dl := at.Add(s.cfg.bound)
	for changed := true; changed; {
		changed = false
		for _, w := range s.windows {
			if w.kind != "redis" || !w.from.Before(dl) {
				continue
			}
			if w.to.IsZero() {
				return time.Time{}, false
			}
			back := w.to.Add(redisBack)
			if back.After(at) && back.Add(s.cfg.bound).After(dl) {
				dl, changed = back.Add(s.cfg.bound), true
			}
		}
	}
	return dl, true
}

// pickReplica returns the next replica taking traffic, round robin.
func (s *soak) pickReplica(not int) (int, *replica) {
	n := len(s.replicas)
	for range 2 * n {
		i := int(s.rr.Add(1) % uint64(n))
		if i != not && s.replicas[i].ready.Load() {
			return i, s.replicas[i]
		}
	}
	return -1, nil
}

func (s *soak) newSession() *sess {
	id := fmt.Sprintf("s-%d", s.nextSess.Add(1))
	return &sess{id: id, token: s.a.TokenWith("ES256", nil, bearertest.Payload{"aud": "api", "scope": "api", "sid": id, "sub": "user-" + id})}
}

func (s *soak) pickSession() *sess {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.out) > 0 && mrand(3) == 0 {
		return s.out[mrand(len(s.out))]
	}
	return s.active[mrand(len(s.active))]
}

// traffic sends requests at the target rate until ctx ends, from a pool
// of workers; a request the workers cannot take in time is dropped, and
// counted.
func (s *soak) traffic(ctx context.Context) {
	jobs := make(chan struct{}, 4096)
	var wg sync.WaitGroup
	// Workers enough that requests held up by a fault (up to the
	// replicas' 5 s Timeout) do not hold up the others: an API's clients
	// do not wait for each other. Three seconds of traffic: a fault holds
	// the requests that need the authority, never all of them.
	for range max(64, 3*s.cfg.rate) {
		wg.Go(func() {
			for range jobs {
				s.one()
			}
		})
	}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	sent := 0
	for {
		select {
		case <-ctx.Done():
			close(jobs)
			wg.Wait()
			return
		case now := <-tick.C:
			due := int(now.Sub(s.t0).Seconds() * float64(s.cfg.rate))
			for ; sent < due; sent++ {
				select {
				case jobs <- struct{}{}:
				default:
					s.dropped.Add(1)
				}
			}
		}
	}
}

var weightTotal = func() int {
	n := 0
	for _, w := range weights {
		n += w
	}
	return n
}()

func pickClass() class {
	n := mrand(weightTotal)
	for c, w := range weights {
		if n < w {
			return class(c)
		}
		n -= w
	}
	return goodES256
}

// one sends one request (two for a DPoP proof replayed) and judges it.
func (s *soak) one() {
	c := pickClass()
	i, r := s.pickReplica(-1)
	if r == nil {
		return
	}
	var se *sess
	var token string // of a class the replicas cache
	req, _ := http.NewRequest(http.MethodGet, r.url+"/values", nil)
	switch c {
	case session:
		se = s.pickSession()
		req.Header.Set("Authorization", "Bearer "+se.token)
	case freshRef:
		req.Header.Set("Authorization", "Bearer "+s.a.ReferenceToken(good()))
	case dpopGood, dpopWrong, unboundDPoP:
		d := s.pools.pickDPoP()
		if c == unboundDPoP {
			req.Header.Set("Authorization", "Bearer "+d.token)
			break
		}
		key := d.key
		if c == dpopWrong {
			key = s.dpopKeys[(slices.Index(s.dpopKeys, d.key)+1)%len(s.dpopKeys)]
		}
		req.Host = dpopHost
		req.Header.Set("Authorization", "DPoP "+d.token)
		req.Header.Set("DPoP", key.Proof(http.MethodGet, "http://"+dpopHost+"/values", d.token))
	default:
		token = s.pools.pick(c)
		req.Header.Set("Authorization", "Bearer "+token)
	}
	cached := s.seen.cached(c, i, token, time.Now())
	start := time.Now()
	status := s.send(req)
	end := time.Now()
	s.judge(c, i, req, start, end, status, se, time.Time{})
	if status == http.StatusOK && !cached {
		s.seen.accepted(c, i, token, start)
	}
	if cached && !s.faulty(start, end) {
		s.mu.Lock()
		s.quiet.timed(end.Sub(start))
		s.mu.Unlock()
		s.series.quietCached(int(s.since(start)/time.Second), end.Sub(start) > 5*time.Millisecond)
	}
	if c == dpopGood && status == http.StatusOK && mrand(4) == 0 {
		j, other := s.pickReplica(i)
		if other == nil {
			return
		}
		again, _ := http.NewRequest(http.MethodGet, other.url+"/values", nil)
		again.Host = dpopHost
		again.Header = req.Header.Clone()
		t := time.Now()
		status := s.send(again)
		s.judge(dpopReplay, j, again, t, time.Now(), status, nil, start)
	}
}

// send returns the response's status, or -1 if there was none.
func (s *soak) send(req *http.Request) int {
	resp, err := s.client.Do(req)
	if err != nil {
		return -1
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// judge compares a request's outcome with what the oracle expects, and
// records it. first is when a replayed proof was first used.
func (s *soak) judge(c class, replica int, req *http.Request, start, end time.Time, status int, se *sess, first time.Time) {
	v := right
	why := ""
	expectGood := c.good()
	if se != nil {
		// A session's token is good until its sign-out was asked for,
		// and must be refused once the bound has passed after a replica
		// acknowledged it; in between, either verdict is right.
		switch st, at := se.started.Load(), se.at.Load(); {
		case st == 0 || st > end.UnixNano():
		case at == 0:
			v = unjudged
		default:
			c, expectGood = signedOut, false
			if dl, ok := s.deadline(time.Unix(0, at)); !ok || start.Before(dl) {
				v = unjudged
			}
		}
	}
	if c == dpopReplay && s.redisDown(first, end) {
		v = unjudged // a Redis restarted empty forgot the proof
	}
	if v == right {
		switch {
		case expectGood && status == http.StatusOK:
		case expectGood && (status == http.StatusServiceUnavailable || status == -1):
			if s.allowed(c, replica, start, end) {
				v = allowed
			} else {
				v, why = bad, "unavailable outside a fault"
			}
		case expectGood:
			v, why = bad, "good token refused"
		case status >= 200 && status < 300:
			v, why = bad, "token that must be refused accepted"
		case status != c.status() && status != http.StatusServiceUnavailable:
			v = mismatch
		}
	}
	s.record(c, replica, start, end, status, v)
	if v == bad {
		fp := fingerprint(req)
		s.mu.Lock()
		s.wrongs = append(s.wrongs, wrong{at: s.since(start), class: c, replica: replica, status: status, fingerprint: fp, why: why})
		s.mu.Unlock()
	}
}
