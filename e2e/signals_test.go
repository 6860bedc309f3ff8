//go:build unix

package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/accesstoken/bearer/bearertest"
)

// createStream creates a stream at tr as an operator would, with its
// configuration endpoint, and returns the stream's delivery endpoint.
func createStream(t *testing.T, tr *bearertest.Transmitter, method, endpoint string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"delivery": map[string]any{"method": method, "endpoint_url": endpoint}})
	resp, err := http.Post(tr.URL+"/streams", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s struct {
		Delivery struct {
			EndpointURL string `json:"endpoint_url"`
		} `json:"delivery"`
	}
	if resp.StatusCode != http.StatusCreated || json.NewDecoder(resp.Body).Decode(&s) != nil {
		t.Fatalf("creating a stream: %d", resp.StatusCode)
	}
	return s.Delivery.EndpointURL
}

// startReceiver runs the examples/api binary bin as one replica that also
// receives tr's signals (with more arguments, such as -ssf-poll), and
// returns its base URL once it is ready.
func startReceiver(t *testing.T, name, bin string, a *bearertest.Authority, tr *bearertest.Transmitter, redisURL string, port int, more ...string) string {
	t.Helper()
	args := append([]string{bin, "-addr", "127.0.0.1:" + itoa(port), "-authority", a.Issuer(), "-redis", redisURL,
		"-client-id", bearertest.DefaultClientID, "-client-secret", bearertest.DefaultClientSecret,
		"-ssf-transmitter", tr.Issuer(), "-ssf-audience", tr.Audience()}, more...)
	p := start(t, name, ".", nil, args...)
	base := "http://127.0.0.1:" + itoa(port)
	waitHTTP(t, p, base+"/readyz", 30*time.Second)
	return base
}

// allRefuse waits until every api refuses token, in parallel, and
// returns how long each took from start.
func allRefuse(t *testing.T, apis []string, token string, start time.Time) []time.Duration {
	t.Helper()
	took := make([]time.Duration, len(apis))
	var wg sync.WaitGroup
	for i, api := range apis {
		wg.Go(func() {
			for {
				r := call(t, api+"/values", token)
				if r.Status == http.StatusUnauthorized {
					took[i] = time.Since(start)
					return
				}
				if r.Status != http.StatusOK || time.Since(start) > 20*time.Second {
					t.Errorf("%s: %d %q, want 401 once the revocation arrives", api, r.Status, r.Body)
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	return took
}

// TestSharedSignalsReplicas runs three examples/api replicas on one Redis,
// each receiving the transmitter's signals: the transmitter pushes a CAEP
// session-revoked event to replica 1, and the session's token is refused
// by all three. The times are logged (the target: within 1 s of
// receipt), not asserted on a busy machine.
func TestSharedSignalsReplicas(t *testing.T) {
	bin := buildAPI(t, repoRoot(t))
	a := bearertest.New(t)
	tr := bearertest.StartTransmitter(t)
	redisPort := freePort(t)
	redisProcess(t, redisPort)
	redisURL := "redis://127.0.0.1:" + itoa(redisPort) + "/0"

	ports := []int{freePort(t), freePort(t), freePort(t)}
	createStream(t, tr, "urn:ietf:rfc:8935", "http://127.0.0.1:"+itoa(ports[0])+"/ssf/events")
	var apis []string
	for i, port := range ports {
		apis = append(apis, startReceiver(t, "api"+itoa(i+1), bin, a, tr, redisURL, port))
	}

	for round := range 3 {
		sid := "s-" + itoa(round)
		token := a.Token(bearertest.Payload{"scope": "api", "sid": sid})
		other := a.Token(bearertest.Payload{"scope": "api", "sid": "other-" + itoa(round)})
		for _, api := range apis {
			wantStatus(t, "before the event", call(t, api+"/values", token), 200, "")
		}
		set := tr.Event(bearertest.SessionRevoked, map[string]any{
			"format": "complex", "session": map[string]any{"format": "opaque", "id": sid},
		}, nil)
		start := time.Now()
		if err := tr.Send(set); err != nil { // 202 from replica 1
			t.Fatal(err)
		}
		received := time.Since(start)
		took := allRefuse(t, apis, token, start)
		t.Logf("round %d: pushed and acknowledged in %v; refused by the replicas after %v", round, received.Round(time.Millisecond), took)
		for _, api := range apis {
			wantStatus(t, "another session", call(t, api+"/values", other), 200, "")
		}
	}

	// Pushed again, the SET is acknowledged and changes nothing.
	set := tr.Event(bearertest.SessionRevoked, map[string]any{"format": "complex", "session": map[string]any{"format": "opaque", "id": "s-0"}}, nil)
	for range 2 {
		if err := tr.Send(set); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSharedSignalsPoll runs three replicas on one Redis, replica 1
// polling the stream: SETs sent before, during and after two restarts of
// the transmitter are all applied on every replica, and all acknowledged.
func TestSharedSignalsPoll(t *testing.T) {
	bin := buildAPI(t, repoRoot(t))
	a := bearertest.New(t)
	tr := bearertest.StartTransmitter(t)
	redisPort := freePort(t)
	redisProcess(t, redisPort)
	redisURL := "redis://127.0.0.1:" + itoa(redisPort) + "/0"

	endpoint := createStream(t, tr, "urn:ietf:rfc:8936", "")
	var apis []string
	for i := range 3 {
		var more []string
		if i == 0 {
			more = []string{"-ssf-poll", endpoint}
		}
		apis = append(apis, startReceiver(t, "api"+itoa(i+1), bin, a, tr, redisURL, freePort(t), more...))
	}

	var tokens []string
	send := func(n int) {
		for range n {
			sid := "s-" + itoa(len(tokens))
			tokens = append(tokens, a.Token(bearertest.Payload{"scope": "api", "sid": sid}))
			if err := tr.Send(tr.Event(bearertest.SessionRevoked, map[string]any{
				"format": "complex", "session": map[string]any{"format": "opaque", "id": sid},
			}, nil)); err != nil {
				t.Fatal(err)
			}
		}
	}
	send(5)
	if err := tr.Restart(); err != nil {
		t.Fatal(err)
	}
	send(5)
	if err := tr.Restart(); err != nil {
		t.Fatal(err)
	}
	send(5)
	start := time.Now()
	for i, token := range tokens {
		took := allRefuse(t, apis, token, start)
		if i == len(tokens)-1 {
			t.Logf("the last SET refused by the replicas %v after it was queued", took)
		}
	}
	for deadline := time.Now().Add(20 * time.Second); tr.Unacknowledged() > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d SETs never acknowledged", tr.Unacknowledged())
		}
	}
	still := a.Token(bearertest.Payload{"scope": "api", "sid": "never-revoked"})
	for _, api := range apis {
		wantStatus(t, "a session no event names", call(t, api+"/values", still), 200, "")
	}
}
