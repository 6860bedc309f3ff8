//go:build unix

package e2e

import (
	"bufio"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer/bearertest"
)

// redisProcess runs redis-server on port, without persistence, and waits
// until it answers PING.
func redisProcess(t *testing.T, port int) *process {
	t.Helper()
	return redisServer(t, port, "--port", itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
}

// redisServer runs redis-server with args, which make it listen on port,
// and waits until it answers PING there.
func redisServer(t *testing.T, port int, args ...string) *process {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		need(t, "redis-server (Debian package redis-server)")
	}
	p := start(t, "redis", ".", nil, append([]string{bin}, args...)...)
	deadline := time.Now().Add(10 * time.Second)
	for !redisAnswers(port) {
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("redis-server does not answer PING:\n%s", p.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p
}

func redisAnswers(port int) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+itoa(port), time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// TestReplicas runs three examples/api processes with -redis, one Redis
// and one authority: a sign-out on one replica is enforced by the others,
// a reference token asked of all three is introspected once, and with
// Redis killed the replicas keep serving, and a sign-out made meanwhile
// reaches the others once Redis is back (empty).
func TestReplicas(t *testing.T) {
	bin := buildAPI(t, repoRoot(t))
	a := bearertest.New(t)
	redisPort := freePort(t)
	redis := redisProcess(t, redisPort)
	redisURL := "redis://127.0.0.1:" + itoa(redisPort) + "/0"

	var apis []string
	for i := range 3 {
		apis = append(apis, startReplica(t, "api"+itoa(i+1), bin, a, redisURL))
	}
	token := func(sid string) string {
		return a.Token(bearertest.Payload{"scope": "api", "sid": sid})
	}

	// A back-channel logout at replica 1 reaches 2 and 3.
	tok := token("s-1")
	for _, api := range apis {
		wantStatus(t, "before the logout", call(t, api+"/values", tok), 200, "")
	}
	// A replica just started may not have reached Redis yet: it answers
	// 503, and the authority tries again, as here.
	logout := a.LogoutToken(bearertest.Payload{"aud": bearertest.DefaultClientID, "sid": "s-1"})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := a.PostLogout(apis[0]+"/backchannel-logout", logout)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			break
		}
		if resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("logout at replica 1: %d", resp.StatusCode)
		}
	}
	wantStatus(t, "replica 1 after the logout", call(t, apis[0]+"/values", tok), 401, "invalid_token")
	for _, api := range apis[1:] {
		eventuallyRefused(t, api, tok)
	}

	// One introspection for the fleet. (bob: the logout above revoked
	// alice's tokens without sid too.)
	ref := a.ReferenceToken(bearertest.Payload{"scope": "api", "sub": "bob"})
	a.ResetHits()
	for _, api := range apis {
		wantStatus(t, "a reference token", call(t, api+"/values", ref), 200, "")
	}
	if n := a.Hits(bearertest.Introspection); n != 1 {
		t.Errorf("three replicas made %d introspection calls for one token, want 1", n)
	}

	// Redis killed: traffic goes on, from local state and the authority.
	redis.stop()
	tok2 := token("s-2")
	for _, api := range apis {
		wantStatus(t, "Redis down, a JWT", call(t, api+"/values", tok2), 200, "")
		wantStatus(t, "Redis down, a new reference token", call(t, api+"/values", a.ReferenceToken(bearertest.Payload{"scope": "api", "sub": "bob"})), 200, "")
		wantStatus(t, "Redis down, a revoked token", call(t, api+"/values", tok), 401, "invalid_token")
	}
	// A sign-out meanwhile holds on replica 1 at once ...
	req, _ := http.NewRequest(http.MethodPost, apis[0]+"/signout", nil)
	req.Header.Set("Authorization", "Bearer "+tok2)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("sign-out with Redis down: %d, want 202 (queued)", resp.StatusCode)
	}
	wantStatus(t, "replica 1 after its sign-out", call(t, apis[0]+"/values", tok2), 401, "invalid_token")
	wantStatus(t, "replica 2 before Redis returns", call(t, apis[1]+"/values", tok2), 200, "")

	// ... and reaches the others once Redis is back, empty.
	redisProcess(t, redisPort)
	for _, api := range apis[1:] {
		eventuallyRefused(t, api, tok2)
	}
	// A replica started now holds what was revoked before the restart
	// once it is ready, from its first request on.
	api4 := startReplica(t, "api4", bin, a, redisURL)
	wantStatus(t, "a new replica, revoked by logout", call(t, api4+"/values", tok), 401, "invalid_token")
	wantStatus(t, "a new replica, revoked by sign-out", call(t, api4+"/values", tok2), 401, "invalid_token")
}

// startReplica runs the examples/api binary bin as one replica, with a's
// tokens and the Redis at redisURL, and returns its base URL once it is
// ready: it holds the authority's keys and the revocations in force.
func startReplica(t *testing.T, name, bin string, a *bearertest.Authority, redisURL string) string {
	t.Helper()
	port := freePort(t)
	p := start(t, name, ".", nil, bin, "-addr", "127.0.0.1:"+itoa(port),
		"-authority", a.Issuer(), "-client-id", bearertest.DefaultClientID, "-client-secret", bearertest.DefaultClientSecret,
		"-redis", redisURL)
	base := "http://127.0.0.1:" + itoa(port)
	waitHTTP(t, p, base+"/readyz", 30*time.Second)
	return base
}

// eventuallyRefused waits until api refuses token as invalid, and logs how
// long that took. The bound is generous on purpose: the propagation time is
// measured in bench/, not asserted on a busy machine.
func eventuallyRefused(t *testing.T, api, token string) {
	t.Helper()
	start := time.Now()
	for {
		r := call(t, api+"/values", token)
		if r.Status == http.StatusUnauthorized {
			t.Logf("%s refused the revoked token after %v", api, time.Since(start).Round(time.Millisecond))
			return
		}
		if r.Status != http.StatusOK || time.Since(start) > 10*time.Second {
			t.Fatalf("%s: %d %q, want 401 once the revocation arrives", api, r.Status, r.Body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
