package main

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/accesstoken/bearer/internal/loopback"
)

// redisSetup is the Redis the replicas share: one server, a Sentinel
// group (a primary, a replica, three sentinels) or a Cluster (three
// primaries with a replica each), real redis-server processes on
// loopback.
type redisSetup struct {
	kind      string
	dir       string
	servers   []*process // the data nodes
	sentinels []*process
	killed    *process
}

func newRedisSetup(kind, dir string) (*redisSetup, error) {
	r := &redisSetup{kind: kind, dir: dir}
	node := func(name string, args ...string) (*process, error) {
		p, err := newRedis(dir, name, args...)
		if err == nil {
			err = startRedis(p)
		}
		if err == nil {
			r.servers = append(r.servers, p)
		}
		return p, err
	}
	switch kind {
	case "single":
		_, err := node("redis")
		return r, err
	case "sentinel":
		primary, err := node("redis-primary")
		if err != nil {
			return r, err
		}
		replica, err := node("redis-replica", "--replicaof", "127.0.0.1", strconv.Itoa(primary.port))
		if err != nil {
			return r, err
		}
		for i := range 3 {
			conf := filepath.Join(dir, fmt.Sprintf("sentinel-%d.conf", i))
			text := fmt.Sprintf("sentinel monitor soak 127.0.0.1 %d 2\nsentinel down-after-milliseconds soak 1000\nsentinel failover-timeout soak 10000\n", primary.port)
			if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
				return r, err
			}
			s, err := newRedis(dir, fmt.Sprintf("sentinel-%d", i), "--sentinel")
			if err != nil {
				return r, err
			}
			argv := s.argv
			s.argv = func() []string { a := argv(); return append([]string{a[0], conf}, a[1:]...) }
			if err := startRedis(s); err != nil {
				return r, err
			}
			r.sentinels = append(r.sentinels, s)
		}
		return r, wait(30*time.Second, "the sentinels to know each other and the replica", func() bool {
			if !strings.Contains(cli(replica.port, "INFO", "replication"), "master_link_status:up") {
				return false
			}
			for _, s := range r.sentinels {
				// A failover needs a majority, which find each other
				// through the primary every 2 s.
				peers := 0
				for line := range strings.Lines(cli(s.port, "SENTINEL", "SENTINELS", "soak")) {
					if strings.TrimSpace(line) == "name" {
						peers++
					}
				}
				if peers < 2 {
					return false
				}
			}
			return true
		})
	case "cluster":
		create := []string{"--cluster", "create"}
		for i := range 6 {
			bus, err := loopback.Port()
			if err != nil {
				return r, err
			}
			n, err := node(fmt.Sprintf("redis-node-%d", i), "--cluster-enabled", "yes",
				"--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", i)), "--cluster-port", strconv.Itoa(bus),
				"--cluster-node-timeout", "1000", "--cluster-replica-validity-factor", "0")
			if err != nil {
				return r, err
			}
			create = append(create, fmt.Sprintf("127.0.0.1:%d", n.port))
		}
		out, err := exec.Command("redis-cli", append(create, "--cluster-replicas", "1", "--cluster-yes")...).CombinedOutput()
		if err != nil {
			return r, fmt.Errorf("redis-cli --cluster create: %v\n%s", err, out)
		}
		return r, r.clusterOK()
	}
	return r, fmt.Errorf("-redis %q: want single, sentinel or cluster", kind)
}

// url is the replicas' -redis.
func (r *redisSetup) url() string {
	switch r.kind {
	case "sentinel":
		q := url.Values{"master_set": {"soak"}}
		for _, s := range r.sentinels[1:] {
			q.Add("addr", fmt.Sprintf("127.0.0.1:%d", s.port))
		}
		return fmt.Sprintf("redis://127.0.0.1:%d/0?%s", r.sentinels[0].port, q.Encode())
	case "cluster":
		q := url.Values{}
		for _, n := range r.servers[1:] {
			q.Add("addr", fmt.Sprintf("127.0.0.1:%d", n.port))
		}
		return fmt.Sprintf("redis://127.0.0.1:%d?%s", r.servers[0].port, q.Encode())
	}
	return fmt.Sprintf("redis://127.0.0.1:%d/0", r.servers[0].port)
}

// kill kills the primary that holds the replicas' revocations (the only
// server, for "single").
func (r *redisSetup) kill() {
	victim := r.servers[0]
	if r.kind == "cluster" {
		for _, n := range r.servers {
			if n.cmd != nil && strings.HasPrefix(cli(n.port, "ROLE"), "master") && !strings.Contains(cli(n.port, "TYPE", "api:{revocations}"), "MOVED") {
				victim = n
			}
		}
	}
	if r.kind != "single" {
		cli(victim.port, "WAIT", "1", "2000") // what the test checks is what the replica had
	}
	victim.stop(syscall.SIGKILL)
	r.killed = victim
}

// recover starts the server again, empty, or waits for a replica to take
// over from the primary killed.
func (r *redisSetup) recover() error {
	switch r.kind {
	case "sentinel":
		replica := r.servers[1]
		return wait(60*time.Second, "the sentinels to promote the replica", func() bool {
			for _, s := range r.sentinels {
				if !strings.Contains(cli(s.port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "soak"), strconv.Itoa(replica.port)) {
					return false
				}
			}
			return strings.HasPrefix(cli(replica.port, "ROLE"), "master")
		})
	case "cluster":
		return r.clusterOK()
	}
	return startRedis(r.killed)
}

func (r *redisSetup) clusterOK() error {
	return wait(60*time.Second, "the cluster to be formed", func() bool {
		for _, n := range r.servers {
			if n.cmd != nil && !strings.Contains(cli(n.port, "CLUSTER", "INFO"), "cluster_state:ok") {
				return false
			}
			if n.cmd != nil && strings.HasPrefix(cli(n.port, "ROLE"), "slave") && !strings.Contains(cli(n.port, "INFO", "replication"), "master_link_status:up") {
				return false
			}
		}
		return true
	})
}

func (r *redisSetup) stop() {
	for _, p := range append(r.sentinels, r.servers...) {
		p.stop(syscall.SIGKILL)
	}
}

// cli runs redis-cli against the server on port, and returns its output
// (an error's text included).
func cli(port int, args ...string) string {
	out, _ := exec.Command("redis-cli", append([]string{"-p", strconv.Itoa(port)}, args...)...).CombinedOutput()
	return string(out)
}

func wait(limit time.Duration, what string, ok func() bool) error {
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			return fmt.Errorf("waited %v for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}
