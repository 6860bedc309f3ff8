package redis

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/accesstoken/bearer/internal/loopback"
	"github.com/redis/rueidis"
)

// redisServer is a real redis-server on a free loopback port, without
// persistence, that a test can stop and start again (empty) on the same
// port. It is stopped when the test ends.
type redisServer struct {
	t    testing.TB
	port int
	conf string   // a configuration file, first argument (a sentinel's)
	args []string // more arguments for redis-server
	cmd  *exec.Cmd
	done chan struct{}
}

func startRedis(t testing.TB, args ...string) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is not installed (Debian package redis-server; scripts/ci-deps.sh installs it)")
	}
	// A replica writes the copy it receives to its directory, whatever
	// --save says: a temporary one, not the package's.
	r := &redisServer{t: t, port: freePort(t), args: append([]string{"--dir", t.TempDir()}, args...)}
	r.start()
	t.Cleanup(r.stop)
	return r
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	port, err := loopback.Port()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// URL is the server's redis:// URL.
func (r *redisServer) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

// start runs the server and waits until it answers PING.
func (r *redisServer) start() {
	r.t.Helper()
	var args []string
	if r.conf != "" {
		args = append(args, r.conf)
	}
	r.cmd = exec.Command("redis-server", append(args, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--protected-mode", "yes",
		"--enable-debug-command", "local")...) // DEBUG SLEEP makes it slow
	r.cmd.Args = append(r.cmd.Args, r.args...)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("redis-server: %v", err)
	}
	r.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		_ = cmd.Wait()
		close(done)
	}(r.cmd, r.done)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if r.ping() == nil {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("redis-server on port %d does not answer PING", r.port)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *redisServer) ping() error {
	c, err := r.client()
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Do(context.Background(), c.B().Ping().Build()).Error()
}

// client is a connection of the test's own.
func (r *redisServer) client() (rueidis.Client, error) {
	o := rueidis.ClientOption{InitAddress: []string{fmt.Sprintf("127.0.0.1:%d", r.port)}, DisableCache: true, ForceSingleClient: true}
	for i, a := range r.args {
		if a == "--requirepass" {
			o.Password = r.args[i+1]
		}
	}
	return rueidis.NewClient(o)
}

// stop kills the server and waits for it to exit. It is idempotent.
func (r *redisServer) stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	<-r.done
	r.cmd = nil
}

// restart stops the server and starts an empty one on the same port.
func (r *redisServer) restart() {
	r.stop()
	r.start()
}

// do runs one command on the server, for a test to look inside.
func (r *redisServer) do(args ...string) rueidis.RedisResult {
	r.t.Helper()
	c, err := r.client()
	if err != nil {
		r.t.Fatal(err)
	}
	defer c.Close()
	return c.Do(context.Background(), c.B().Arbitrary(args...).Build())
}

// sleep makes the server answer nothing for d (DEBUG SLEEP), and returns
// once it has stopped answering; the channel is closed when it answers
// again.
func (r *redisServer) sleep(d time.Duration) <-chan struct{} {
	r.t.Helper()
	c, err := r.client()
	if err != nil {
		r.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer c.Close()
		_ = c.Do(context.Background(), c.B().Arbitrary("DEBUG", "SLEEP").Args(strconv.FormatFloat(d.Seconds(), 'f', 3, 64)).Build()).Error()
	}()
	deadline := time.Now().Add(d / 2)
	for r.pingWithin(20*time.Millisecond) == nil {
		if time.Now().After(deadline) {
			r.t.Fatal("DEBUG SLEEP did not make the server slow")
		}
	}
	return done
}

// pingWithin pings the server on a connection of its own, within d.
func (r *redisServer) pingWithin(d time.Duration) error {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", r.port), d)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(d))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	_, err = c.Read(make([]byte, 7))
	return err
}
