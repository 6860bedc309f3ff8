package bearertest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/accesstoken/bearer/bearertest"
)

// postJSON sends v as JSON to url and decodes the answer into out.
func postJSON(t *testing.T, url string, v, out any) int {
	t.Helper()
	body, _ := json.Marshal(v)
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// The transmitter publishes its metadata and keys, and its SETs are
// signed with them, typ secevent+jwt.
func TestTransmitterMetadata(t *testing.T) {
	tr := bearertest.StartTransmitter(t)
	md := getJSON(t, tr.URL+"/.well-known/ssf-configuration")
	if md["issuer"] != tr.Issuer() || md["jwks_uri"] != tr.JWKSURL() || md["configuration_endpoint"] == nil || md["verification_endpoint"] == nil {
		t.Errorf("metadata: %v", md)
	}
	set := tr.Event(bearertest.SessionRevoked, map[string]any{"format": "opaque", "id": "s1"}, nil)
	header, payload := segment(t, set, 0), segment(t, set, 1)
	if header["typ"] != "secevent+jwt" || header["alg"] != "ES256" {
		t.Errorf("header: %v", header)
	}
	if payload["iss"] != tr.Issuer() || payload["aud"] != tr.Audience() || payload["jti"] == "" || payload["iat"] == nil {
		t.Errorf("payload: %v", payload)
	}
	events, _ := payload["events"].(map[string]any)
	if e, _ := events[bearertest.SessionRevoked].(map[string]any); e["event_timestamp"] == nil {
		t.Errorf("events: %v", payload["events"])
	}
	keys := getJSON(t, tr.JWKSURL())["keys"].([]any)
	jwk := keys[0].(map[string]any)
	if err := verify("ES256", set, parseJWK(t, "ES256", jwk)); err != nil || jwk["kid"] != header["kid"] {
		t.Errorf("the SET does not verify with the published key: %v", err)
	}
}

// A poll stream keeps each SET until it is acknowledged or refused (RFC
// 8936): maxEvents bounds an answer, moreAvailable says there are more,
// returnImmediately answers at once when there are none, and the queue
// survives Restart.
func TestTransmitterPoll(t *testing.T) {
	tr := bearertest.StartTransmitter(t)
	var stream struct {
		ID       string `json:"stream_id"`
		Delivery struct {
			Method   string `json:"method"`
			Endpoint string `json:"endpoint_url"`
		} `json:"delivery"`
	}
	if status := postJSON(t, tr.URL+"/streams", map[string]any{"delivery": map[string]any{"method": "urn:ietf:rfc:8936"}}, &stream); status != http.StatusCreated || stream.Delivery.Endpoint == "" {
		t.Fatalf("create: %d %+v", status, stream)
	}
	var jtis []string
	for range 3 {
		set := tr.SET(nil)
		jtis = append(jtis, segment(t, set, 1)["jti"].(string))
		if err := tr.Send(set); err != nil {
			t.Fatal(err)
		}
	}
	type answer struct {
		Sets map[string]string `json:"sets"`
		More bool              `json:"moreAvailable"`
	}
	var a answer
	postJSON(t, stream.Delivery.Endpoint, map[string]any{"maxEvents": 2, "returnImmediately": true}, &a)
	if len(a.Sets) != 2 || !a.More {
		t.Fatalf("first poll: %d SETs, moreAvailable %v; want 2 and true", len(a.Sets), a.More)
	}
	if err := tr.Restart(); err != nil {
		t.Fatal(err)
	}
	a = answer{}
	postJSON(t, stream.Delivery.Endpoint, map[string]any{"ack": []string{jtis[0]}, "setErrs": map[string]any{jtis[1]: map[string]string{"err": "invalid_key", "description": "x"}}, "returnImmediately": true}, &a)
	if len(a.Sets) != 1 || a.Sets[jtis[2]] == "" || a.More {
		t.Errorf("after the restart and the acknowledgments: %v, want only the third", a.Sets)
	}
	if tr.Unacknowledged() != 1 || tr.Refused(jtis[1]) != "invalid_key" {
		t.Errorf("Unacknowledged %d, Refused %q", tr.Unacknowledged(), tr.Refused(jtis[1]))
	}
	a = answer{}
	postJSON(t, stream.Delivery.Endpoint, map[string]any{"ack": []string{jtis[2]}, "returnImmediately": true}, &a)
	if len(a.Sets) != 0 || tr.Unacknowledged() != 0 {
		t.Errorf("after the last acknowledgment: %v, %d unacknowledged", a.Sets, tr.Unacknowledged())
	}
}

// A request made after Restart returns is answered by the new server,
// even from a client that kept its connection to the old one alive: the
// transmitter keeps none, so no client is left holding one Restart cut.
func TestTransmitterRestart(t *testing.T) {
	tr := bearertest.StartTransmitter(t)
	var stream struct {
		Delivery struct {
			Endpoint string `json:"endpoint_url"`
		} `json:"delivery"`
	}
	postJSON(t, tr.URL+"/streams", map[string]any{"delivery": map[string]any{"method": "urn:ietf:rfc:8936"}}, &stream)
	// Each round's first poll leaves its connection idle in the client's
	// pool, read to the end; the poll after Restart is not replayable, so
	// a connection Restart cut would be its error.
	for range 10 {
		resp, err := http.Post(stream.Delivery.Endpoint, "application/json", strings.NewReader(`{"returnImmediately":true}`))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err := tr.Restart(); err != nil {
			t.Fatal(err)
		}
		if status := postJSON(t, stream.Delivery.Endpoint, map[string]any{"returnImmediately": true}, nil); status != http.StatusOK {
			t.Fatalf("poll after Restart: %d", status)
		}
	}
}

// Send without a stream fails, and a push stream's refusals are Send's
// errors.
func TestTransmitterSend(t *testing.T) {
	tr := bearertest.StartTransmitter(t)
	if err := tr.Send(tr.SET(nil)); err == nil {
		t.Error("Send without a stream: no error")
	}
	if status := postJSON(t, tr.URL+"/streams", map[string]any{"delivery": map[string]any{"method": "urn:ietf:rfc:8935"}}, nil); status != http.StatusBadRequest {
		t.Errorf("a push stream without endpoint_url: %d, want 400", status)
	}
	refuse := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "application/secevent+jwt" || r.Header.Get("Authorization") != "Bearer x" {
			t.Errorf("push: Content-Type %q, Authorization %q", r.Header.Get("Content-Type"), r.Header.Get("Authorization"))
		}
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"err":"invalid_key","description":"no"}`))
	})
	srv := httptest.NewServer(refuse)
	defer srv.Close()
	postJSON(t, tr.URL+"/streams", map[string]any{"delivery": map[string]any{"method": "urn:ietf:rfc:8935", "endpoint_url": srv.URL, "authorization_header": "Bearer x"}}, nil)
	if err := tr.Send(tr.SET(nil)); err == nil || !strings.Contains(err.Error(), "invalid_key") {
		t.Errorf("Send to a receiver that refuses: %v", err)
	}
}
