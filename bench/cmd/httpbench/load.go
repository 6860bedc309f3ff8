package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// result is what the load role prints, as JSON, for the driver.
type result struct {
	Requests int64   `json:"requests"` // completed with 200 in the measured window
	Seconds  float64 `json:"seconds"`  // length of the measured window
	Refused  int64   `json:"refused"`  // answers other than 200 (any makes the run invalid)
	Errors   int64   `json:"errors"`   // connection or protocol errors
	CPU      float64 `json:"cpu"`      // the load generator's CPU time / window
	// From the server's /stats at the start and end of the window:
	ServerCPU float64 `json:"server_cpu"`        // the server's CPU time / window
	Hits      *int64  `json:"hits,omitempty"`    // validated-token cache hits in the window
	Misses    *int64  `json:"misses,omitempty"`  // and misses
	Entries   *int64  `json:"entries,omitempty"` // tokens cached at the window's end
}

// serverStats is what the server's /stats answers.
type serverStats struct {
	CPU   float64 `json:"cpu"` // seconds of CPU time used so far
	Cache *struct {
		Hits    int64 `json:"hits"`
		Misses  int64 `json:"misses"`
		Entries int64 `json:"entries"`
	} `json:"cache"`
}

// loadConfig says what to send: the warm-up requests in turn for warmup,
// and at least once each, then the measured requests for duration,
// cycling through them, or each once (then the window ends when they are
// used up). With no warm-up the window opens before the first request,
// so none of the warm-up's cost falls into it.
type loadConfig struct {
	addr     string
	conns    int
	warmup   time.Duration
	duration time.Duration
	once     bool
	warm     [][]byte // the warm-up requests
	reqs     [][]byte // the measured requests
}

// request formats a GET carrying token.
func request(token string) []byte {
	return []byte("GET / HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer " + token + "\r\n\r\n")
}

// load runs the load role: keep-alive connections, one goroutine each,
// sending a request and reading the answer in turn. It is a minimal
// HTTP/1.1 client (Content-Length bodies only) so that one core of load
// outpaces one core of server.
func load(cfg loadConfig) result {
	const (
		warming = iota
		measuring
		stopping
	)
	var (
		phase    atomic.Int32
		next     atomic.Int64 // index of the next measured request
		nextWarm atomic.Int64 // index of the next warm-up request
		warmed   atomic.Int64 // warm-up requests answered
		done     atomic.Int64
		refused  atomic.Int64
		errs     atomic.Int64
		wg       sync.WaitGroup
		finished = make(chan struct{})
	)
	statsConn, err := net.Dial("tcp", cfg.addr)
	if err != nil {
		log.Fatal(err)
	}
	defer statsConn.Close()
	stats := &client{conn: statsConn, r: bufio.NewReader(statsConn)}
	var (
		s0    serverStats
		cpu0  time.Duration
		start time.Time
	)
	openWindow := func() {
		s0 = stats.stats()
		cpu0 = cpuTime()
		start = time.Now()
		phase.Store(measuring)
	}
	if cfg.warmup <= 0 {
		openWindow()
	}
	for range cfg.conns {
		conn, err := net.Dial("tcp", cfg.addr)
		if err != nil {
			log.Fatal(err)
		}
		c := &client{conn: conn, r: bufio.NewReaderSize(conn, 16<<10)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			for {
				p := phase.Load()
				if p == stopping {
					return
				}
				var req []byte
				if p == warming {
					req = cfg.warm[(nextWarm.Add(1)-1)%int64(len(cfg.warm))]
				} else {
					i := next.Add(1) - 1
					if cfg.once && i >= int64(len(cfg.reqs)) {
						return
					}
					req = cfg.reqs[i%int64(len(cfg.reqs))]
				}
				status, err := c.do(req)
				switch {
				case err != nil:
					errs.Add(1)
					return
				case status != 200:
					refused.Add(1)
				case p == warming:
					warmed.Add(1)
				case phase.Load() == measuring:
					done.Add(1)
				}
			}
		}()
	}
	go func() { wg.Wait(); close(finished) }()
	if cfg.warmup > 0 {
		time.Sleep(cfg.warmup)
		// A warm-up over many tokens may need longer than warmup to send
		// each once; the window waits for it, or for the load to fail.
	warming:
		for warmed.Load() < int64(len(cfg.warm)) {
			select {
			case <-finished:
				break warming
			case <-time.After(10 * time.Millisecond):
			}
		}
		openWindow()
	}
	select {
	case <-time.After(cfg.duration):
	case <-finished:
	}
	n := done.Load()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	s1 := stats.stats()
	phase.Store(stopping)
	<-finished
	res := result{
		Requests:  n,
		Seconds:   elapsed.Seconds(),
		Refused:   refused.Load(),
		Errors:    errs.Load(),
		CPU:       cpu.Seconds() / elapsed.Seconds(),
		ServerCPU: (s1.CPU - s0.CPU) / elapsed.Seconds(),
	}
	if s0.Cache != nil && s1.Cache != nil {
		hits, misses := s1.Cache.Hits-s0.Cache.Hits, s1.Cache.Misses-s0.Cache.Misses
		res.Hits, res.Misses, res.Entries = &hits, &misses, &s1.Cache.Entries
	}
	return res
}

var statsRequest = []byte("GET /stats HTTP/1.1\r\nHost: bench\r\n\r\n")

// stats asks the server for its /stats.
func (c *client) stats() serverStats {
	if _, err := c.conn.Write(statsRequest); err != nil {
		log.Fatal(err)
	}
	status, length, err := c.head()
	if err != nil || status != 200 {
		log.Fatalf("/stats: %d %v", status, err)
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(c.r, body); err != nil {
		log.Fatal(err)
	}
	var s serverStats
	if err := json.Unmarshal(body, &s); err != nil {
		log.Fatalf("/stats: %v", err)
	}
	return s
}

// client is one keep-alive connection.
type client struct {
	conn net.Conn
	r    *bufio.Reader
}

var contentLength = []byte("content-length:")

// do sends req and reads the response, returning its status code.
func (c *client) do(req []byte) (int, error) {
	if _, err := c.conn.Write(req); err != nil {
		return 0, err
	}
	status, length, err := c.head()
	if err != nil {
		return 0, err
	}
	if _, err := c.r.Discard(length); err != nil {
		return 0, err
	}
	return status, nil
}

// head reads a response's status line and header, and returns the status
// code and the Content-Length.
func (c *client) head() (status, length int, err error) {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, 0, fmt.Errorf("bad status line %q", line)
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, 0, err
	}
	length = -1
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, 0, err
		}
		if len(line) <= 2 {
			break
		}
		if len(line) > len(contentLength) && bytes.EqualFold(line[:len(contentLength)], contentLength) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(line[len(contentLength):]))); err != nil {
				return 0, 0, err
			}
		}
	}
	if length < 0 {
		return 0, 0, errors.New("response without Content-Length")
	}
	return status, length, nil
}

// cpuTime is the CPU time (user + system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runLoad is the load role's main: it reads the token files, runs load
// and prints the result.
func runLoad(cfg loadConfig, warmFile, tokensFile string) {
	warm, err := readTokens(warmFile)
	if err != nil {
		log.Fatal(err)
	}
	tokens, err := readTokens(tokensFile)
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range warm {
		cfg.warm = append(cfg.warm, request(t))
	}
	for _, t := range tokens {
		cfg.reqs = append(cfg.reqs, request(t))
	}
	if err := json.NewEncoder(os.Stdout).Encode(load(cfg)); err != nil {
		log.Fatal(err)
	}
}
