//go:build unix

package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/accesstoken/bearer/internal/loopback"
	"github.com/accesstoken/bearer/internal/testlog"
)

// process is a program a test runs: an authority, a server, a browser
// driver. Its output is kept for the test's log.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *testlog.Buffer
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, set before done is closed
}

// start runs a program in dir with env added to the test's environment,
// and stops it, with every process it started, when the test ends.
func start(t testing.TB, name, dir string, env []string, argv ...string) *process {
	t.Helper()
	p := &process{name: name, out: &testlog.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	p.cmd.SysProcAttr = sysProcAttr()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.out)
		}
	})
	return p
}

// stop ends the process group: SIGTERM, then SIGKILL if it is still there
// after a few seconds. It is idempotent.
func (p *process) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	pgid := p.cmd.Process.Pid // the group's id: see sysProcAttr
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
	// Whatever the leader left behind in its group goes too.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
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

// waitHTTP polls url until it answers 200, the process ends or the
// timeout passes.
func waitHTTP(t testing.TB, p *process, url string, timeout time.Duration) {
	t.Helper()
	if err := answers(p, url, timeout); err != nil {
		t.Fatalf("%v:\n%s", err, p.out)
	}
}

// answers waits until url answers 200 or timeout passes, and says why
// not. Each request has a short deadline of its own: a port that accepts
// and never answers must not use up the whole wait.
func answers(p *process, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = errors.New(resp.Status)
		}
		if p.exited() {
			return fmt.Errorf("%s exited (%v) before %s answered", p.name, p.err, url)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %s did not answer 200 within %v (last: %v)", p.name, url, timeout, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
