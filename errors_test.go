package bearer_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

func TestWriteError(t *testing.T) {
	cases := []struct {
		name      string
		err       error
		status    int
		challenge string
		body      map[string]string
	}{
		{"no token", bearer.NewError(bearer.ErrNoToken, ""), 401, `Bearer realm="api"`,
			map[string]string{"error_description": "no access token"}},
		{"invalid token", bearer.NewError(bearer.ErrInvalidToken, "token expired"), 401,
			`Bearer realm="api", error="invalid_token", error_description="token expired"`,
			map[string]string{"error": "invalid_token", "error_description": "token expired"}},
		{"invalid request", bearer.NewError(bearer.ErrInvalidRequest, "more than one Authorization field"), 400,
			`Bearer realm="api", error="invalid_request", error_description="more than one Authorization field"`,
			map[string]string{"error": "invalid_request", "error_description": "more than one Authorization field"}},
		{"insufficient scope", bearer.AllOf("api", "write").Check(&bearer.Claims{}), 403,
			`Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="api write"`,
			map[string]string{"error": "insufficient_scope", "error_description": "insufficient scope", "scope": "api write"}},
		{"unavailable", bearer.NewError(bearer.ErrUnavailable, ""), 503, "",
			map[string]string{"error_description": "authority unavailable"}},
		{"foreign error fails closed", errors.New("boom"), 503, "",
			map[string]string{"error_description": "authority unavailable"}},
		{"description sanitised", bearer.NewError(bearer.ErrInvalidToken, "bad \"quote\" \\ and\nnewline é"), 401,
			`Bearer realm="api", error="invalid_token", error_description="bad quote  andnewline "`,
			map[string]string{"error": "invalid_token", "error_description": "bad quote  andnewline "}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			bearer.WriteError(rec, "api", tc.err)
			if rec.Code != tc.status {
				t.Errorf("status %d, want %d", rec.Code, tc.status)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tc.challenge)
			}
			if tc.challenge != "" && rec.Header().Get("Access-Control-Expose-Headers") != "WWW-Authenticate" {
				t.Error("challenge not exposed to CORS")
			}
			if tc.status == 503 && rec.Header().Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			if rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
				t.Errorf("headers %v", rec.Header())
			}
			var body map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if len(body) != len(tc.body) {
				t.Errorf("body %v, want %v", body, tc.body)
			}
			for k, v := range tc.body {
				if body[k] != v {
					t.Errorf("body[%s] = %q, want %q", k, body[k], v)
				}
			}
		})
	}
}

func TestRetryAfterRoundsUp(t *testing.T) {
	e := bearer.NewError(bearer.ErrUnavailable, "")
	e.RetryAfter = 1500 * time.Millisecond
	rec := httptest.NewRecorder()
	bearer.WriteError(rec, "", e)
	if got := rec.Header().Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q", got)
	}
	if got := rec.Header().Get("WWW-Authenticate"); got != "" {
		t.Errorf("503 carries a challenge: %q", got)
	}
}

func TestErrorKindsAndReasons(t *testing.T) {
	a, v := attackSetup(t)
	_, err := v.Validate(context.Background(), a.Token(claims(map[string]any{"exp": time.Now().Add(-time.Hour)})))
	if !errors.Is(err, bearer.ErrInvalidToken) || !errors.Is(err, bearer.ErrExpired) || errors.Is(err, bearer.ErrUnavailable) {
		t.Errorf("errors.Is mismatch for %v", err)
	}
	var e *bearer.Error
	if !errors.As(err, &e) || e.Status != http.StatusUnauthorized || e.Description != "token expired" {
		t.Errorf("error %+v", e)
	}
	if e.Error() != "bearer: invalid token: token expired" {
		t.Errorf("Error() = %q", e.Error())
	}
}

func TestFingerprint(t *testing.T) {
	f := bearer.Fingerprint("secret-token")
	if len(f) != 12 || f == bearer.Fingerprint("secret-token2") || f != bearer.Fingerprint("secret-token") {
		t.Errorf("Fingerprint = %q", f)
	}
}

func TestAsErrorNil(t *testing.T) {
	if e := bearer.AsError(nil); e != nil {
		t.Errorf("AsError(nil) = %v, want nil", e)
	}
	// WriteError still fails closed on nil.
	w := httptest.NewRecorder()
	bearer.WriteError(w, "api", nil)
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("WriteError(nil): %d", w.Code)
	}
}

// TestErrorSaysEachThingOnce: Error() names the kind, then what only the
// description, the scopes or the cause add, never the same phrase twice.
func TestErrorSaysEachThingOnce(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{bearer.NewError(bearer.ErrNoToken, ""), "bearer: no access token"},
		{bearer.NewError(bearer.ErrUnavailable, ""), "bearer: authority unavailable"},
		{bearer.NewError(bearer.ErrExpired, ""), "bearer: invalid token: token expired"},
		{bearer.NewError(bearer.ErrRevoked, ""), "bearer: invalid token: token revoked"},
		{bearer.NewError(bearer.ErrInvalidRequest, "more than one Authorization field"), "bearer: invalid request: more than one Authorization field"},
		{bearer.AllOf("api", "write").Check(&bearer.Claims{}), "bearer: insufficient scope: want api write"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}

	// An authority that refuses connections, and one whose JWKS fails
	// while discovery waits for it: the cause follows the kind once.
	gone := bearertest.NewAuthority()
	gone.Close()
	jwksDown := bearertest.New(t)
	jwksDown.SetStatus(bearertest.JWKS, http.StatusInternalServerError)
	for name, authority := range map[string]string{"refused": gone.Issuer(), "JWKS down": jwksDown.Issuer()} {
		t.Run(name, func(t *testing.T) {
			v, err := bearer.New(context.Background(), bearer.Config{Authority: authority, Audience: []string{"api"}, Timeout: time.Second, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			_, err = v.Validate(context.Background(), jwksDown.Token(claims(nil)))
			msg := err.Error()
			if !errors.Is(err, bearer.ErrUnavailable) || !strings.HasPrefix(msg, "bearer: authority unavailable: ") ||
				strings.Count(msg, "authority unavailable") != 1 || strings.Count(msg, "bearer:") != 1 {
				t.Errorf("Error() = %q", msg)
			}
		})
	}
}
