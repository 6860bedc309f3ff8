package main

import (
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/accesstoken/bearer"
)

// verdict is the oracle's judgment of one request.
type verdict int

const (
	right    verdict = iota
	bad              // a wrong verdict
	allowed          // a 503, or no answer, for a good token while a fault it depends on was in force
	unjudged         // a sign-out under way, or a replay across a Redis restart: either answer is right
	mismatch         // a bad token refused, with another status than expected
)

// buckets of the latency histograms: 2 % wide, from 1 µs.
const nBuckets = 1200

func bucket(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us <= 1 {
		return 0
	}
	return min(int(math.Log(us)/math.Log(1.02))+1, nBuckets-1)
}

func bucketTop(b int) time.Duration {
	return time.Duration(math.Pow(1.02, float64(b)) * float64(time.Microsecond))
}

type classStats struct {
	n        int
	status   map[int]int
	verdicts [5]int
	hist     [nBuckets]int
	max      time.Duration
}

// quantile is the latency under which a fraction q of the requests
// finished, to 2 %.
func quantile(h *[nBuckets]int, n int, q float64) time.Duration {
	want := int(math.Ceil(q * float64(n)))
	seen := 0
	for b, k := range h {
		seen += k
		if seen >= want && k > 0 {
			return bucketTop(b)
		}
	}
	return 0
}

// timed counts one request that took d.
func (st *classStats) timed(d time.Duration) {
	st.n++
	st.hist[bucket(d)]++
	st.max = max(st.max, d)
}

func (s *soak) record(c class, replica int, start, end time.Time, status int, v verdict) {
	d := end.Sub(start)
	s.mu.Lock()
	st := &s.stats[c]
	if st.status == nil {
		st.status = map[int]int{}
	}
	st.timed(d)
	st.status[status]++
	st.verdicts[v]++
	s.mu.Unlock()
	s.series.request(int(s.since(start)/time.Second), status, v)
}

// fingerprint is the request's token's fingerprint (bearer.Fingerprint),
// which is all a report may say of it.
func fingerprint(req *http.Request) string {
	_, tok, _ := strings.Cut(req.Header.Get("Authorization"), " ")
	return bearer.Fingerprint(tok)
}

// series is the run, second by second.
type series struct {
	mu    sync.Mutex
	rows  []row
	marks []mark
}

type row struct {
	requests, ok, refused, unavailable, noAnswer, wrong int
	rss, rssFile                                        []int64 // per replica, bytes; 0: no sample
	goroutines, files, conns                            []int
	jwks, discovery, introspection                      int // calls so far
	// slow of the quiet cached validations (cached classes, outside
	// faults) took the driver more than 5 ms.
	quiet, slow int
	// CPU seconds used in this second: per replica, by the driver (this
	// process, the authority's included) and by the Redis servers.
	cpu                 []float64
	cpuDriver, cpuRedis float64
	// Each replica's Go runtime memory classes (usage), bytes.
	heapInuse, heapFree, heapReleased, stacks, nextGC, heapLive, sys, threads []int64
	// Seconds paused for collections in this second.
	gcPause             []float64
	gcPauseDriver       float64
	revocations, cached []int
}

func newSeries(d time.Duration, replicas int) *series {
	s := &series{rows: make([]row, int(d/time.Second)+1)}
	for i := range s.rows {
		r := &s.rows[i]
		r.rss, r.rssFile = make([]int64, replicas), make([]int64, replicas)
		r.heapInuse, r.heapFree, r.heapReleased, r.stacks, r.nextGC = make([]int64, replicas), make([]int64, replicas), make([]int64, replicas), make([]int64, replicas), make([]int64, replicas)
		r.heapLive, r.sys, r.threads = make([]int64, replicas), make([]int64, replicas), make([]int64, replicas)
		r.goroutines, r.files, r.conns, r.revocations, r.cached = make([]int, replicas), make([]int, replicas), make([]int, replicas), make([]int, replicas), make([]int, replicas)
		r.cpu, r.gcPause = make([]float64, replicas), make([]float64, replicas)
	}
	return s
}

func (s *series) at(sec int) *row {
	if sec < 0 || sec >= len(s.rows) {
		return nil
	}
	return &s.rows[sec]
}

func (s *series) request(sec, status int, v verdict) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.at(sec)
	if r == nil {
		return
	}
	r.requests++
	switch {
	case status == http.StatusOK:
		r.ok++
	case status == http.StatusServiceUnavailable:
		r.unavailable++
	case status < 0:
		r.noAnswer++
	default:
		r.refused++
	}
	if v == bad {
		r.wrong++
	}
}

// usage records a replica's sample, and its CPU and pauses since the
// last one.
func (s *series) usage(sec, replica int, u usage, cpu, pause float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.at(sec); r != nil {
		r.rss[replica], r.rssFile[replica], r.goroutines[replica], r.files[replica], r.conns[replica] = u.rss, u.rssFile, u.goroutines, u.files, u.conns
		r.heapInuse[replica], r.heapFree[replica], r.heapReleased[replica], r.stacks[replica], r.nextGC[replica] = u.heapInuse, u.heapFree, u.heapReleased, u.stacks, u.nextGC
		r.revocations[replica], r.cached[replica] = u.revocations, u.cached
		r.heapLive[replica], r.sys[replica], r.threads[replica] = u.heapLive, u.sys, u.threads
		r.cpu[replica], r.gcPause[replica] = cpu, pause
	}
}

// quietCached counts a cached validation outside faults, slow if the
// driver saw it take more than 5 ms.
func (s *series) quietCached(sec int, slow bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.at(sec); r != nil {
		r.quiet++
		if slow {
			r.slow++
		}
	}
}

// driver records the CPU the driver and the Redis servers used in a
// second, and the driver's pauses.
func (s *series) driver(sec int, cpu, redis, pause float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.at(sec); r != nil {
		r.cpuDriver, r.cpuRedis, r.gcPauseDriver = cpu, redis, pause
	}
}

func (s *series) hits(sec, jwks, discovery, introspection int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.at(sec); r != nil {
		r.jwks, r.discovery, r.introspection = jwks, discovery, introspection
	}
}
