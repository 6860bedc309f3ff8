package main

import (
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

type report struct {
	cfg      config
	elapsed  time.Duration
	stats    [nClasses]classStats
	wrongs   []wrong
	props    []time.Duration
	windows  []window
	series   *series
	dropped  int64
	problems []string
	load0    string
	load     string
	propRows []propRow
	quiet    classStats
	floor    classStats      // GET /healthz, outside faults
	lowers   []time.Duration // sorted, as props: the bracket's lower ends
	// own and ownQuiet are the replicas' own cached validations (soak.own).
	own, ownQuiet map[string]map[float64]float64
}

type propRow struct {
	at           time.Duration // acknowledged, since the start
	replica      int
	lower, upper time.Duration // the bracket, from then or from Redis's return
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func (s *soak) report(elapsed time.Duration, problems []string) *report {
	s.mu.Lock()
	props := slices.Clone(s.props)
	s.mu.Unlock()
	var propRows []propRow
	var delays, lowers []time.Duration
	// A sign-out made while Redis is down is counted from when it was
	// back (as the deadline is), when the Stores publish it.
	for _, p := range props {
		from := p.at
		if dl, ok := s.deadline(p.at); ok {
			from = dl.Add(-s.cfg.bound)
		}
		delays = append(delays, p.refused.Sub(from))
		lowers = append(lowers, max(p.accepted.Sub(from), 0))
		propRows = append(propRows, propRow{p.at.Sub(s.t0), p.replica, max(p.accepted.Sub(from), 0), p.refused.Sub(from)})
	}
	slices.Sort(delays)
	slices.Sort(lowers)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &report{props: delays, lowers: lowers, propRows: propRows, quiet: s.quiet, floor: s.floor, cfg: s.cfg, elapsed: elapsed, stats: s.stats, wrongs: s.wrongs, windows: s.windows,
		series: s.series, dropped: s.dropped.Load(), problems: problems, own: s.own, ownQuiet: s.ownQuiet}
	for i := range s.windows {
		r.windows[i].from = time.Time{}.Add(s.windows[i].from.Sub(s.t0))
		r.windows[i].to = time.Time{}.Add(s.windows[i].to.Sub(s.t0))
	}
	r.load0, r.load = s.load0, loadavg()
	return r
}

func (r *report) total() (n int, v [5]int) {
	for _, st := range r.stats {
		n += st.n
		for i, k := range st.verdicts {
			v[i] += k
		}
	}
	return n, v
}

func (r *report) failed() bool { return len(r.wrongs) > 0 || len(r.problems) > 0 }

// cachedP99 is the 99th percentile of the cached classes together.
func (r *report) cachedP99() (time.Duration, int) {
	var h [nBuckets]int
	n := 0
	for c := range nClasses {
		if !c.cached() {
			continue
		}
		for b, k := range r.stats[c].hist {
			h[b] += k
		}
		n += r.stats[c].n
	}
	return quantile(&h, n, 0.99), n
}

func pct(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

// level is the mean of a replica's samples of one measure over the
// seconds [from, to).
func (r *report) level(from, to float64, get func(row) float64) float64 {
	n, sum := 0, 0.0
	for sec := int(from * r.elapsed.Seconds()); sec < int(to*r.elapsed.Seconds()) && sec < len(r.series.rows); sec++ {
		if v := get(r.series.rows[sec]); v > 0 {
			sum += v
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

func (r *report) summary() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	n, v := r.total()
	procs := "the runtime's default"
	if r.cfg.procs > 0 {
		procs = fmt.Sprint(r.cfg.procs)
	}
	p("## Soak: %v, target %d requests/s, %d replicas (race %v, GOMAXPROCS %s), Redis %s, bound %v\n\n", r.elapsed.Round(time.Second), r.cfg.rate, r.cfg.replicas, r.cfg.race, procs, r.cfg.redis, r.cfg.bound)
	p("%d requests, %.0f/s achieved (%d dropped by the driver); %d wrong verdicts, %d 503s allowed during faults, %d unjudged (sign-outs under way, replays across a Redis restart), %d refusals with another status than expected. Load average (1, 5, 15 min) before the traffic: %s, at the end: %s; %d CPUs.\n\n",
		n, float64(n)/r.elapsed.Seconds(), r.dropped, v[bad], v[allowed], v[unjudged], v[mismatch], r.load0, r.load, runtime.NumCPU())
	p("| class | requests | 200 | 401 | 403 | 503 | other | no answer | wrong | p50 | p99 | max |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for c := range nClasses {
		st := r.stats[c]
		if st.n == 0 {
			continue
		}
		other := st.n - st.status[200] - st.status[401] - st.status[403] - st.status[503] - st.status[-1]
		p("| %s | %d | %d | %d | %d | %d | %d | %d | %d | %v | %v | %v |\n", c, st.n, st.status[200], st.status[401], st.status[403], st.status[503], other, st.status[-1],
			st.verdicts[bad], round(quantile(&st.hist, st.n, 0.5)), round(quantile(&st.hist, st.n, 0.99)), round(st.max))
	}
	p("\n")
	if len(r.wrongs) > 0 {
		p("Wrong verdicts (first 50):\n\n| at | class | replica | status | token fingerprint | what |\n|---|---|---|---|---|---|\n")
		for _, w := range r.wrongs[:min(50, len(r.wrongs))] {
			p("| %v | %s | %d | %d | %s | %s |\n", w.at.Round(time.Millisecond), w.class, w.replica, w.status, w.fingerprint, w.why)
		}
		p("\n")
	}
	for _, pr := range r.problems {
		p("Replica problem: %s\n\n", pr)
	}
	var calls row // the counts only grow
	for _, x := range r.series.rows {
		calls.jwks, calls.discovery, calls.introspection = max(calls.jwks, x.jwks), max(calls.discovery, x.discovery), max(calls.introspection, x.introspection)
	}
	p("Authority calls over the run: %d JWKS, %d discovery, %d introspection.\n\n", calls.jwks, calls.discovery, calls.introspection)

	p("Faults:\n\n| from | to | fault |\n|---|---|---|\n")
	for _, w := range r.windows {
		p("| %v | %v | %s |\n", w.from.Sub(time.Time{}).Round(100*time.Millisecond), w.to.Sub(time.Time{}).Round(100*time.Millisecond), w.name)
	}
	p("\nTargets:\n\n")
	met := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**not met**"
	}
	p("- wrong verdicts: %d (%s)\n", v[bad], met(v[bad] == 0))
	p99, nc := r.cachedP99()
	p("- p99 of cached validations (%d requests, faults included): %v, target 5 ms (%s)\n", nc, round(p99), met(p99 <= 5*time.Millisecond))
	q99 := quantile(&r.quiet.hist, r.quiet.n, 0.99)
	p("- p99 of cached validations outside faults (%d requests; p50 %v): %v (%s)\n", r.quiet.n, round(quantile(&r.quiet.hist, r.quiet.n, 0.5)), round(q99), met(q99 <= 5*time.Millisecond))
	p("- the floor beside it: GET /healthz, which no middleware guards, at a twentieth of the rate besides the traffic, outside faults (%d requests): p50 %v, p99 %v\n",
		r.floor.n, round(quantile(&r.floor.hist, r.floor.n, 0.5)), round(quantile(&r.floor.hist, r.floor.n, 0.99)))
	p("- the same validations as the replicas timed them (bearer.validation.duration, source cache: the call of the Validator only, not the HTTP exchange): JWTs %s, outside faults %s; reference tokens %s, outside faults %s\n",
		ownQuantiles(r.own["jwt"]), ownQuantiles(r.ownQuiet["jwt"]), ownQuantiles(r.own["opaque"]), ownQuantiles(r.ownQuiet["opaque"]))
	c503 := r.stats[cachedJWT].status[503] + r.stats[cachedJWT].status[-1]
	p("- 503s (or no answer) for a cached token (jwt-cached), faults included: %d (%s)\n", c503, met(c503 == 0))
	if len(r.props) > 0 {
		over := len(r.props) - func() int {
			i, _ := slices.BinarySearch(r.props, time.Second+1)
			return i
		}()
		p("- sign-outs refused on every replica (by the end of the first refused request): %d measured, p50 %v, p99 %v, max %v; %d over 1 s (%s); the revocation arrived after the start of the last accepted request: p99 %v, max %v\n",
			len(r.props), round(pct(r.props, 0.5)), round(pct(r.props, 0.99)), round(r.props[len(r.props)-1]), over, met(over == 0), round(pct(r.lowers, 0.99)), round(r.lowers[len(r.lowers)-1]))
	}
	for i := range r.cfg.replicas {
		from, to := r.warm(i)
		for _, m := range []struct {
			name string
			get  func(row) float64
		}{
			{"RSS (MB)", func(x row) float64 { return float64(x.rss[i]) / 1e6 }},
			{"goroutines, less client connections", func(x row) float64 { return float64(x.goroutines[i] - x.conns[i]) }},
			{"open files, less client connections", func(x row) float64 { return float64(x.files[i] - x.conns[i]) }},
		} {
			base, end := r.level(from, to, m.get), r.level(0.95, 1, m.get)
			ratio := end / base
			p("- replica %d %s: %.1f after warm-up, %.1f at the end (%+.0f %%, %s)\n", i, m.name, base, end, 100*(ratio-1), met(ratio <= 1.10))
		}
	}
	p("\nWhere the CPU went (cores, mean over the run; the machine has %d): %s.\n", runtime.NumCPU(), r.cpuShares())
	var slow, quiet int
	var pauses float64
	for _, x := range r.rows() {
		slow, quiet, pauses = slow+x.slow, quiet+x.quiet, pauses+x.gcPauseDriver
	}
	p("Quiet cached validations over 5 ms for the driver: %d of %d; the driver's collections paused it %v in all.\n", slow, quiet, round(time.Duration(pauses*float64(time.Second))))
	p("\nEach replica's memory as its Go runtime sees it (MB, after warm-up → at the end, the same windows as RSS):\n\n| replica | RSS | of which mapped from files | heap in use | heap free, not returned | heap returned | stacks | next collection at | live heap, as the last collection found it | revocations | cached tokens | GC pauses | goroutines at most |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for i := range r.cfg.replicas {
		from, to := r.warm(i)
		mb := func(get func(row) int64) string {
			f := func(x row) float64 { return float64(get(x)) / 1e6 }
			return fmt.Sprintf("%.1f → %.1f", r.level(from, to, f), r.level(0.95, 1, f))
		}
		n := func(get func(row) int) string {
			f := func(x row) float64 { return float64(get(x)) }
			return fmt.Sprintf("%.0f → %.0f", r.level(from, to, f), r.level(0.95, 1, f))
		}
		// The runtime keeps every goroutine it ever ran for reuse
		// (golang/go#9869): the most at once stays in the live heap.
		pause, most := 0.0, 0
		for _, x := range r.rows() {
			pause += x.gcPause[i]
			most = max(most, x.goroutines[i])
		}
		p("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %v | %d |\n", i, mb(func(x row) int64 { return x.rss[i] }), mb(func(x row) int64 { return x.rssFile[i] }), mb(func(x row) int64 { return x.heapInuse[i] }),
			mb(func(x row) int64 { return x.heapFree[i] }), mb(func(x row) int64 { return x.heapReleased[i] }), mb(func(x row) int64 { return x.stacks[i] }),
			mb(func(x row) int64 { return x.nextGC[i] }), mb(func(x row) int64 { return x.heapLive[i] }), n(func(x row) int { return x.revocations[i] }), n(func(x row) int { return x.cached[i] }),
			round(time.Duration(pause*float64(time.Second))), most)
	}
	return b.String()
}

// rows are the seconds the run lasted.
func (r *report) rows() []row {
	return r.series.rows[:min(len(r.series.rows), int(r.elapsed.Seconds()))]
}

// warm is the window of the level after warm-up of replica i: the last
// replica's is after its restart, at 0.65 of the run.
func (r *report) warm(i int) (from, to float64) {
	if i == r.cfg.replicas-1 {
		return 0.84, 0.88
	}
	return 0.08, 0.12
}

// cpuShares says how many cores each process used, on average.
func (r *report) cpuShares() string {
	var driver, redis float64
	replicas := make([]float64, r.cfg.replicas)
	for _, x := range r.rows() {
		driver, redis = driver+x.cpuDriver, redis+x.cpuRedis
		for i, c := range x.cpu {
			replicas[i] += c
		}
	}
	secs := r.elapsed.Seconds()
	parts := []string{fmt.Sprintf("driver and authority %.2f", driver/secs)}
	total := driver + redis
	for i, c := range replicas {
		parts = append(parts, fmt.Sprintf("replica %d %.2f", i, c/secs))
		total += c
	}
	parts = append(parts, fmt.Sprintf("Redis %.2f", redis/secs), fmt.Sprintf("in all %.2f", total/secs))
	return strings.Join(parts, ", ")
}

// ownQuantiles says what the replicas' own histogram of cached
// validations (cumulative counts under each bound) tells: how many, the
// bound under which 50 % and 99 % fell, and how many took over 5 ms.
func ownQuantiles(h map[float64]float64) string {
	n := h[math.Inf(1)]
	if n == 0 {
		return "none recorded"
	}
	bounds := slices.Sorted(maps.Keys(h))
	under := func(q float64) string {
		for _, le := range bounds {
			if h[le] >= q*n {
				return "≤ " + round(time.Duration(le*float64(time.Second))).String()
			}
		}
		return "?"
	}
	return fmt.Sprintf("%.0f validations, p50 %s, p99 %s, %.0f over 5 ms", n, under(0.5), under(0.99), n-h[0.005])
}

func round(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(10 * time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// write puts report.md, series.csv and plot.svg in dir.
func (r *report) write(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(r.summary()), 0o644); err != nil {
		return err
	}
	var csv strings.Builder
	csv.WriteString("second,requests,ok,refused,unavailable,no_answer,wrong,jwks_calls,discovery_calls,introspection_calls")
	for i := range r.cfg.replicas {
		fmt.Fprintf(&csv, ",rss_mb_%d,goroutines_%d,open_files_%d,client_connections_%d", i, i, i, i)
		fmt.Fprintf(&csv, ",rss_file_mb_%d,cpu_s_%d,heap_inuse_mb_%d,heap_free_mb_%d,heap_released_mb_%d,stacks_mb_%d,next_gc_mb_%d,heap_live_mb_%d,gc_pause_ms_%d,revocations_%d,cached_tokens_%d,go_sys_mb_%d,threads_%d", i, i, i, i, i, i, i, i, i, i, i, i, i)
	}
	csv.WriteString(",cpu_s_driver,cpu_s_redis,gc_pause_ms_driver,quiet_cached,quiet_cached_over_5ms")
	csv.WriteString(",faults\n")
	n := min(len(r.series.rows), int(r.elapsed.Seconds()))
	for sec, x := range r.series.rows[:n] {
		fmt.Fprintf(&csv, "%d,%d,%d,%d,%d,%d,%d,%d,%d,%d", sec, x.requests, x.ok, x.refused, x.unavailable, x.noAnswer, x.wrong, x.jwks, x.discovery, x.introspection)
		for i := range r.cfg.replicas {
			fmt.Fprintf(&csv, ",%.1f,%d,%d,%d", float64(x.rss[i])/1e6, x.goroutines[i], x.files[i], x.conns[i])
			fmt.Fprintf(&csv, ",%.1f,%.2f,%.1f,%.1f,%.1f,%.2f,%.1f,%.2f,%.2f,%d,%d,%.1f,%d", float64(x.rssFile[i])/1e6, x.cpu[i], float64(x.heapInuse[i])/1e6, float64(x.heapFree[i])/1e6, float64(x.heapReleased[i])/1e6,
				float64(x.stacks[i])/1e6, float64(x.nextGC[i])/1e6, float64(x.heapLive[i])/1e6, 1000*x.gcPause[i], x.revocations[i], x.cached[i], float64(x.sys[i])/1e6, x.threads[i])
		}
		fmt.Fprintf(&csv, ",%.2f,%.2f,%.2f,%d,%d", x.cpuDriver, x.cpuRedis, 1000*x.gcPauseDriver, x.quiet, x.slow)
		var names []string
		for _, m := range r.series.marks {
			if int(m.at/time.Second) == sec {
				names = append(names, m.name)
			}
		}
		fmt.Fprintf(&csv, ",%q\n", strings.Join(names, "; "))
	}
	if err := os.WriteFile(filepath.Join(dir, "series.csv"), []byte(csv.String()), 0o644); err != nil {
		return err
	}
	var props strings.Builder
	props.WriteString("acknowledged_s,replica,accepted_until_ms,refused_by_ms\n")
	for _, p := range r.propRows {
		fmt.Fprintf(&props, "%.3f,%d,%.3f,%.3f\n", p.at.Seconds(), p.replica, float64(p.lower)/float64(time.Millisecond), float64(p.upper)/float64(time.Millisecond))
	}
	if err := os.WriteFile(filepath.Join(dir, "propagation.csv"), []byte(props.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "plot.svg"), []byte(r.plot(n)), 0o644)
}
