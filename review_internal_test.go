package bearer

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Regression tests of the review in issue 18 that need the package's
// insides; the others are in review_test.go.

// TestReview3_HTTPSRuleIgnoresSchemeCase: an authority written
// "HTTPS://…" is https, so neither its discovery document nor
// Config.IntrospectionEndpoint may send the API to an http endpoint.
func TestReview3_HTTPSRuleIgnoresSchemeCase(t *testing.T) {
	for _, authority := range []string{"HTTPS://login.example.com/tenant", "Https://login.example.com/tenant", "https://login.example.com/tenant"} {
		for _, field := range []string{"jwks_uri", "introspection_endpoint"} {
			doc := `{"issuer":"` + authority + `","` + field + `":"http://login.example.com/tenant/x"}`
			if _, err := parseMetadata([]byte(doc), authority); err == nil || !strings.Contains(err.Error(), "not https") {
				t.Errorf("authority %s: %s over http accepted (%v)", authority, field, err)
			}
		}
		_, err := Config{
			Authority: authority, Audience: []string{"api"}, ClientID: "api", ClientSecret: "secret",
			IntrospectionEndpoint: "http://login.example.com/tenant/introspect",
		}.settings()
		if err == nil || !strings.Contains(err.Error(), "not https") {
			t.Errorf("authority %s: http IntrospectionEndpoint accepted (%v)", authority, err)
		}
		_, err = Config{
			Authority: authority, Audience: []string{"api"}, ClientID: "api", ClientSecret: "secret",
			IntrospectionEndpoint: "HTTPS://login.example.com/tenant/introspect",
		}.settings()
		if err != nil {
			t.Errorf("authority %s: https IntrospectionEndpoint in capitals refused: %v", authority, err)
		}
	}
	// An http authority may have http endpoints, in any case.
	if _, err := parseMetadata([]byte(`{"issuer":"HTTP://127.0.0.1:4000","jwks_uri":"http://127.0.0.1:4000/jwks"}`), "HTTP://127.0.0.1:4000"); err != nil {
		t.Errorf("http authority: %v", err)
	}
}

// TestReview10_URLsRedacted: passwords, queries and fragments of the
// authority's URLs (API keys, signed-URL tokens) stay out of logs and
// errors; redactURL is the one helper for it.
func TestReview10_URLsRedacted(t *testing.T) {
	for in, want := range map[string]string{
		"https://login.example.com/jwks":                       "https://login.example.com/jwks",
		"https://user:PASSWORD@login.example.com/jwks":         "https://user:xxxxx@login.example.com/jwks",
		"https://login.example.com/jwks?api-key=SECRET":        "https://login.example.com/jwks?xxxxx",
		"https://login.example.com/jwks?":                      "https://login.example.com/jwks?xxxxx",
		"https://login.example.com/jwks#SECRET":                "https://login.example.com/jwks#xxxxx",
		"https://u:PASSWORD@login.example.com/p?SECRET#SECRET": "https://u:xxxxx@login.example.com/p?xxxxx#xxxxx",
		"http://[::1%SECRET":                                   "(unparsable URL)",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer srv.Close()
	gone := httptest.NewServer(nil)
	gone.Close()
	secretURL := func(base string) string {
		return strings.Replace(base, "://", "://user:PASSWORD@", 1) + "/jwks?api-key=SECRET#SECRET"
	}
	ctx := context.Background()
	for name, err := range map[string]error{
		"status":      func() error { _, err := get(ctx, srv.Client(), secretURL(srv.URL)); return err }(),
		"unreachable": func() error { _, err := get(ctx, srv.Client(), secretURL(gone.URL)); return err }(),
		"bad URL":     func() error { _, err := get(ctx, srv.Client(), "http://[::1%SECRET/"); return err }(),
		"discovery": func() error {
			_, err := discover(ctx, srv.Client(), strings.Replace(srv.URL, "://", "://user:PASSWORD@", 1))
			return err
		}(),
		"endpoint": checkEndpoint("ftp://login.example.com/x?SECRET", false),
		"http":     checkEndpoint("http://user:PASSWORD@login.example.com/x?SECRET", true),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "SECRET") || strings.Contains(msg, "PASSWORD") {
			t.Errorf("%s: error names a secret: %s", name, msg)
		}
	}
}

// TestReview10_IntrospectionLogsRedactURLs: the introspection endpoint's
// query and password are not logged when it fails or refuses the API.
func TestReview10_IntrospectionLogsRedactURLs(t *testing.T) {
	status := http.StatusBadGateway
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", status)
	}))
	defer srv.Close()
	var logs bytes.Buffer
	in, err := NewIntrospector(Config{
		IntrospectionEndpoint: strings.Replace(srv.URL, "://", "://user:PASSWORD@", 1) + "/introspect?api-key=SECRET",
		ClientID:              "api", ClientSecret: "secret",
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	for _, s := range []int{http.StatusBadGateway, http.StatusUnauthorized} {
		status = s
		_, err := in.Introspect(context.Background(), "token-"+http.StatusText(s))
		if err == nil || strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "PASSWORD") {
			t.Errorf("status %d: error %v", s, err)
		}
	}
	if out := logs.String(); !strings.Contains(out, "xxxxx") || strings.Contains(out, "SECRET") || strings.Contains(out, "PASSWORD") {
		t.Errorf("logs:\n%s", out)
	}
}

// TestIssue17_OutageCountedPeriodically (issue 17 §5): while an outage
// lasts, its failures are logged once per logEvery with their count.
func TestIssue17_OutageCountedPeriodically(t *testing.T) {
	var e episode
	t0 := time.Unix(1_700_000_000, 0)
	type step struct {
		at    time.Duration
		first bool
		n     int
	}
	for _, s := range []step{
		{0, true, 1},
		{10 * time.Second, false, 0},
		{30 * time.Second, false, 0},
		{logEvery + time.Second, false, 3}, // three since the first line
		{logEvery + 30*time.Second, false, 0},
		{2*logEvery + 2*time.Second, false, 2},
	} {
		first, n, since := e.event(t0.Add(s.at))
		if first != s.first || n != s.n || !since.Equal(t0) {
			t.Errorf("event at +%v: first %v, n %d, since %v; want %v, %d", s.at, first, n, since.Sub(t0), s.first, s.n)
		}
	}
	if total, since, ok := e.end(); !ok || total != 6 || !since.Equal(t0) {
		t.Errorf("end: %d, %v, %v; want 6 events since +0", total, since, ok)
	}
	if _, _, ok := e.end(); ok {
		t.Error("ended twice")
	}
	if first, _, _ := e.event(t0.Add(time.Hour)); !first {
		t.Error("an event after the end begins no new run")
	}
}
