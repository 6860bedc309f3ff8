package redis

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A topology is Redis as it is run in production: a Sentinel group or a
// Cluster, real redis-server processes on loopback, stopped when the test
// ends.
type topology interface {
	// URL is the Store's Options.URL for it.
	URL() string
	// failover kills the primary that holds the Store's revocations,
	// calls meanwhile, and returns once a replica has taken over and the
	// survivors agree.
	failover(meanwhile func())
	// primaryOf returns the primary that holds key now.
	primaryOf(key string) *redisServer
}

// sentinelGroup is a primary, its replica and three sentinels.
type sentinelGroup struct {
	t                *testing.T
	primary, replica *redisServer
	sentinels        []*redisServer
}

const masterSet = "bearer-test"

func startSentinelGroup(t *testing.T) *sentinelGroup {
	t.Helper()
	g := &sentinelGroup{t: t}
	g.primary = startRedis(t)
	g.replica = startRedis(t, "--replicaof", "127.0.0.1", strconv.Itoa(g.primary.port))
	dir := t.TempDir()
	for i := range 3 {
		// A sentinel rewrites its configuration file: one each.
		conf := filepath.Join(dir, fmt.Sprintf("sentinel-%d.conf", i))
		text := fmt.Sprintf("sentinel monitor %[1]s 127.0.0.1 %[2]d 2\n"+
			"sentinel down-after-milliseconds %[1]s 1000\n"+
			"sentinel failover-timeout %[1]s 10000\n", masterSet, g.primary.port)
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		s := &redisServer{t: t, port: freePort(t), conf: conf, args: []string{"--sentinel", "--dir", dir}}
		s.start()
		t.Cleanup(s.stop)
		g.sentinels = append(g.sentinels, s)
	}
	waitLinked(t, g.replica)
	// A failover needs a majority of the sentinels, which find each other
	// through the primary every 2 s.
	waitLong(t, 30*time.Second, "the sentinels to know each other and the replica", func() bool {
		for _, s := range g.sentinels {
			peers, err := s.do("SENTINEL", "SENTINELS", masterSet).ToArray()
			if err != nil || len(peers) != len(g.sentinels)-1 {
				return false
			}
			replicas, err := s.do("SENTINEL", "REPLICAS", masterSet).ToArray()
			if err != nil || len(replicas) != 1 {
				return false
			}
		}
		return true
	})
	return g
}

// URL names the sentinels and the group: the Store asks them where the
// primary is, and follows it when it changes.
func (g *sentinelGroup) URL() string {
	u := fmt.Sprintf("redis://127.0.0.1:%d/0?master_set=%s", g.sentinels[0].port, masterSet)
	for _, s := range g.sentinels[1:] {
		u += fmt.Sprintf("&addr=127.0.0.1:%d", s.port)
	}
	return u
}

func (g *sentinelGroup) primaryOf(string) *redisServer { return g.primary }

func (g *sentinelGroup) failover(meanwhile func()) {
	g.t.Helper()
	// Replication is asynchronous: what the test checks afterwards is
	// what the replica had, as WAIT makes sure.
	if n, err := g.primary.do("WAIT", "1", "5000").AsInt64(); err != nil || n != 1 {
		g.t.Fatalf("WAIT: %d, %v", n, err)
	}
	g.primary.stop()
	meanwhile()
	want := strconv.Itoa(g.replica.port)
	waitLong(g.t, 60*time.Second, "the sentinels to promote the replica", func() bool {
		for _, s := range g.sentinels {
			addr, err := s.do("SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterSet).AsStrSlice()
			if err != nil || len(addr) != 2 || addr[1] != want {
				return false
			}
		}
		role, err := g.replica.do("ROLE").ToArray()
		if err != nil || len(role) == 0 {
			return false
		}
		r, _ := role[0].ToString()
		return r == "master"
	})
	g.primary, g.replica = g.replica, nil
}

// cluster is three primaries, each with a replica.
type cluster struct {
	t     *testing.T
	nodes []*redisServer
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{t: t}
	dir := t.TempDir()
	addrs := []string{"--cluster", "create"}
	for i := range 6 {
		n := startRedis(t, "--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", i)),
			"--cluster-port", strconv.Itoa(freePort(t)),
			// A failover within seconds, by whichever replica is left.
			"--cluster-node-timeout", "1000", "--cluster-replica-validity-factor", "0")
		c.nodes = append(c.nodes, n)
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", n.port))
	}
	out, err := exec.Command("redis-cli", append(addrs, "--cluster-replicas", "1", "--cluster-yes")...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	waitLong(t, 30*time.Second, "the cluster to be formed", func() bool {
		for _, n := range c.nodes {
			info, err := n.do("CLUSTER", "INFO").ToString()
			if err != nil || !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:6") {
				return false
			}
		}
		return true
	})
	for _, n := range c.nodes {
		if role, _ := n.do("ROLE").ToArray(); len(role) > 0 {
			if r, _ := role[0].ToString(); r == "slave" {
				waitLinked(t, n)
			}
		}
	}
	return c
}

// URL names every node: any of them tells the Store where each slot is.
func (c *cluster) URL() string {
	q := url.Values{}
	for _, n := range c.nodes[1:] {
		q.Add("addr", fmt.Sprintf("127.0.0.1:%d", n.port))
	}
	return fmt.Sprintf("redis://127.0.0.1:%d?%s", c.nodes[0].port, q.Encode())
}

func (c *cluster) alive() []*redisServer {
	var up []*redisServer
	for _, n := range c.nodes {
		if n.cmd != nil {
			up = append(up, n)
		}
	}
	return up
}

func (c *cluster) primaryOf(key string) *redisServer {
	c.t.Helper()
	for _, n := range c.alive() {
		if role, _ := n.do("ROLE").ToArray(); len(role) > 0 {
			if r, _ := role[0].ToString(); r != "master" {
				continue
			}
		}
		// A primary answers a key of its own slots, and redirects the
		// others with MOVED.
		if err := n.do("TYPE", key).Error(); err == nil {
			return n
		}
	}
	c.t.Fatalf("no primary holds %q", key)
	return nil
}

func (c *cluster) failover(meanwhile func()) {
	c.t.Helper()
	p := c.primaryOf("test:{revocations}")
	if n, err := p.do("WAIT", "1", "5000").AsInt64(); err != nil || n != 1 {
		c.t.Fatalf("WAIT: %d, %v", n, err)
	}
	p.stop()
	meanwhile()
	waitLong(c.t, 60*time.Second, "a replica to take over", func() bool {
		for _, n := range c.alive() {
			info, err := n.do("CLUSTER", "INFO").ToString()
			if err != nil || !strings.Contains(info, "cluster_state:ok") {
				return false
			}
		}
		return true
	})
}

// waitLinked waits until a replica has copied its primary.
func waitLinked(t *testing.T, r *redisServer) {
	t.Helper()
	waitLong(t, 30*time.Second, "the replica to copy its primary", func() bool {
		info, err := r.do("INFO", "replication").ToString()
		return err == nil && strings.Contains(info, "master_link_status:up")
	})
}

// waitFor waits until ok, checking every 50 ms, or fails the test after
// limit, which only a broken setup reaches.
func waitLong(t testing.TB, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", limit, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
