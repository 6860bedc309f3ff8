package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/accesstoken/bearer/internal/loopback"
)

// build compiles examples/api into dir, with -race if asked.
func build(ctx context.Context, repo, dir string, race bool) (string, error) {
	bin := filepath.Join(dir, "api")
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	cmd := exec.CommandContext(ctx, "go", append(args, "./examples/api")...)
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./examples/api: %v\n%s", err, out)
	}
	return bin, nil
}

// process is a program the soak starts, stops and starts again on the
// same port, its output appended to a log file.
type process struct {
	name string
	port int
	argv func() []string
	env  []string // added to the soak's own environment
	log  string
	cmd  *exec.Cmd
	done chan struct{}
	pid  atomic.Int64
}

func (p *process) start() error {
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	argv := p.argv()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	if p.env != nil {
		cmd.Env = append(os.Environ(), p.env...)
	}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", p.name, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	p.pid.Store(int64(cmd.Process.Pid))
	go func(done chan struct{}) {
		_ = cmd.Wait()
		f.Close()
		close(done)
	}(p.done)
	return nil
}

// stop sends sig and waits for the process to exit, killing it after 10 s.
func (p *process) stop(sig syscall.Signal) {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	p.cmd = nil
	p.pid.Store(0)
}

// waitFor polls ok every 20 ms until it holds, the process exits, or
// limit passes.
func (p *process) waitFor(limit time.Duration, ok func() bool) error {
	deadline := time.Now().Add(limit)
	for !ok() {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited (see %s)", p.name, p.log)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v (see %s)", p.name, limit, p.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// newRedis is a redis-server without persistence, in a directory of its
// own under dir (where a replica writes the copy it receives).
func newRedis(dir, name string, args ...string) (*process, error) {
	port, err := loopback.Port()
	if err != nil {
		return nil, err
	}
	own := filepath.Join(dir, name)
	if err := os.MkdirAll(own, 0o755); err != nil {
		return nil, err
	}
	p := &process{name: name, port: port, log: filepath.Join(dir, name+".log")}
	p.argv = func() []string {
		return append([]string{"redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
			"--appendonly", "no", "--dir", own, "--maxmemory-policy", "noeviction"}, args...)
	}
	return p, nil
}

// startRedis starts it and waits until it answers PING.
func startRedis(p *process) error {
	if err := p.start(); err != nil {
		return err
	}
	return p.waitFor(10*time.Second, func() bool { return redisPing(p.port) == nil })
}

func redisPing(port int) error {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return errors.New("redis: " + line)
	}
	return nil
}

// replica is one examples/api process.
type replica struct {
	process
	url   string
	ready atomic.Bool // takes traffic
}

func newReplica(i int, dir, bin, issuer, redisURL string, procs int) (*replica, error) {
	port, err := loopback.Port()
	if err != nil {
		return nil, err
	}
	r := &replica{url: fmt.Sprintf("http://127.0.0.1:%d", port)}
	r.process = process{name: fmt.Sprintf("replica %d", i), port: port, log: filepath.Join(dir, fmt.Sprintf("replica-%d.log", i))}
	if procs > 0 {
		r.env = []string{fmt.Sprintf("GOMAXPROCS=%d", procs)}
	}
	r.argv = func() []string {
		return []string{bin, "-addr", fmt.Sprintf("127.0.0.1:%d", port), "-authority", issuer,
			"-client-id", clientID, "-client-secret", clientSecret, "-audience", "api", "-scopes", "api",
			"-redis", redisURL, "-metrics", "prometheus"}
	}
	return r, nil
}

// startReplica starts it and waits until /readyz says it is ready: the
// authority's keys and the revocations in force are at hand.
func startReplica(r *replica, client *http.Client) error {
	if err := r.start(); err != nil {
		return err
	}
	err := r.waitFor(60*time.Second, func() bool {
		resp, err := client.Get(r.url + "/readyz")
		if err != nil {
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if err == nil {
		r.ready.Store(true)
	}
	return err
}

// usage is what /proc and /metrics say of a replica.
type usage struct {
	rss int64 // bytes
	// rssFile is the part of rss mapped from files, the program's code
	// mostly: it grows as code runs for the first time (a fault's
	// handling, say), and is no allocation.
	rssFile    int64
	files      int
	goroutines int
	// conns are the connections of the API's clients (the driver) open
	// at the replica: each holds a file and a goroutine, and how many
	// there are is the driver's doing, so the leak measures discount them.
	conns int
	cpu   float64 // seconds of CPU since the process started
	// What the Go runtime says the RSS is made of (go_memstats_*, bytes):
	// the heap's spans in use, its free spans not yet returned to the
	// system, those returned, the goroutines' stacks, and the heap size
	// at which the next collection starts (the collector's headroom);
	// and the heap the last collection found live (go_gc_heap_live_bytes),
	// which neither the collector's headroom nor memory kept for reuse
	// moves, though the requests under way at the collection do.
	heapInuse, heapFree, heapReleased, stacks, nextGC, heapLive int64
	// sys is all the memory the runtime holds from the system, and
	// threads its OS threads.
	sys, threads        int64
	gcPause             float64 // seconds paused for collections since the start
	revocations, cached int     // the Validator's revocations in force and cached tokens
	// hits are the replica's own durations of validations answered from
	// its cache (bearer.validation.duration, source cache, success, scheme
	// bearer), by
	// token format (jwt, opaque): the cumulative count at or under each
	// bucket's upper bound, in seconds.
	hits map[string]map[float64]float64
}

func sample(r *replica, client *http.Client) (usage, bool) {
	pid := r.pid.Load()
	if pid == 0 || !r.ready.Load() {
		return usage{}, false
	}
	var u usage
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, false
	}
	for line := range strings.Lines(string(status)) {
		for prefix, to := range map[string]*int64{"VmRSS:": &u.rss, "RssFile:": &u.rssFile} {
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				kb, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
				*to = kb * 1024
			}
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return u, false
	}
	u.files = len(fds)
	u.cpu = cpuSeconds(pid)
	// Uncompressed: a replica that gzips its metrics every second makes a
	// compressor of most of a megabyte each time (its pool is emptied by
	// the collections in between), garbage and CPU that a scraper at the
	// usual 15 s or more would not cost it.
	req, _ := http.NewRequest(http.MethodGet, r.url+"/metrics", nil)
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := client.Do(req)
	if err != nil {
		return u, false
	}
	defer resp.Body.Close()
	u.hits = map[string]map[float64]float64{"jwt": {}, "opaque": {}}
	gauges := map[string]*int64{
		"go_memstats_heap_inuse_bytes": &u.heapInuse, "go_memstats_heap_released_bytes": &u.heapReleased,
		"go_memstats_stack_inuse_bytes": &u.stacks, "go_memstats_next_gc_bytes": &u.nextGC, "go_gc_heap_live_bytes": &u.heapLive,
		"go_memstats_sys_bytes": &u.sys, "go_threads": &u.threads,
	}
	var idle int64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, labels, v, ok := metricLine(sc.Text())
		if !ok {
			continue
		}
		switch name {
		case "go_goroutines":
			u.goroutines = int(v)
		case "go_memstats_heap_idle_bytes":
			idle = int64(v)
		case "go_gc_duration_seconds_sum":
			u.gcPause = v
		case "bearer_revocations":
			u.revocations = int(v)
		case "bearer_cache_entries":
			u.cached = int(v)
		case "bearer_validation_duration_seconds_bucket":
			// Bearer tokens only: a DPoP proof's replay check goes to Redis.
			if strings.Contains(labels, `bearer_source="cache"`) && strings.Contains(labels, `bearer_result="success"`) && strings.Contains(labels, `bearer_scheme="bearer"`) {
				le, err := strconv.ParseFloat(label(labels, "le"), 64)
				if h := u.hits[label(labels, "bearer_token_format")]; h != nil && err == nil {
					h[le] += v
				}
			}
		default:
			if p := gauges[name]; p != nil {
				*p = int64(v)
			}
		}
	}
	u.heapFree = idle - u.heapReleased
	return u, true
}

// metricLine splits a line of Prometheus's text format into the metric's
// name, its labels (between the braces) and its value.
func metricLine(line string) (name, labels string, v float64, ok bool) {
	if line == "" || line[0] == '#' {
		return "", "", 0, false
	}
	i := strings.LastIndexByte(line, ' ')
	if i < 0 {
		return "", "", 0, false
	}
	v, err := strconv.ParseFloat(line[i+1:], 64)
	if err != nil {
		return "", "", 0, false
	}
	name = line[:i]
	if j := strings.IndexByte(name, '{'); j >= 0 {
		name, labels = name[:j], strings.TrimSuffix(name[j+1:], "}")
	}
	return name, labels, v, true
}

// label is the value of the label key in labels (k="v",...).
func label(labels, key string) string {
	_, rest, ok := strings.Cut(","+labels, ","+key+`="`)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

// cpuSeconds is the CPU time (user and system) process pid has used, as
// /proc/<pid>/stat counts it in clock ticks of 10 ms.
func cpuSeconds(pid int64) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command's name, in parentheses: utime and
	// stime are the 14th and 15th of the line.
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100
}

// raceOrPanic reports whether a replica's log shows a data race or a
// panic.
func raceOrPanic(log string) string {
	b, _ := os.ReadFile(log)
	for _, s := range []string{"WARNING: DATA RACE", "panic:", "fatal error:"} {
		if strings.Contains(string(b), s) {
			return s
		}
	}
	return ""
}

// idle runs f on an OS thread of its own at the lowest CPU priority
// (nice 19), and waits for it. The driver is the authority too, and a
// key rotation is its one burst of work: generating an RSA key and
// signing a pool of tokens takes a core for a fifth of a second, which a
// real authority spends on its own machine, not on the replicas' cores.
// At nice 19 it runs in the time the replicas and the traffic leave.
func idle(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Never unlocked: the thread ends with the goroutine, and its
		// priority with it, instead of going back to the runtime.
		runtime.LockOSThread()
		_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), 19)
		f()
	}()
	<-done
}
