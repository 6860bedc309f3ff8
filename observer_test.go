package bearer_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/observe"
)

// observations is an Observer that keeps every event.
type observations struct {
	mu           sync.Mutex
	validations  []observe.Validation
	refreshes    []observe.Refresh
	calls        []observe.IntrospectionCall
	refreshCtxs  []context.Context
	introCtxs    []context.Context
	validateCtxs []context.Context
}

func (r *observations) Validated(ctx context.Context, v observe.Validation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.validations = append(r.validations, v)
	r.validateCtxs = append(r.validateCtxs, ctx)
}

func (r *observations) Refreshed(ctx context.Context, e observe.Refresh) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refreshes = append(r.refreshes, e)
	r.refreshCtxs = append(r.refreshCtxs, ctx)
}

func (r *observations) Introspected(ctx context.Context, c observe.IntrospectionCall) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	r.introCtxs = append(r.introCtxs, ctx)
}

// last returns the latest validation.
func (r *observations) last(t *testing.T) observe.Validation {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.validations) == 0 {
		t.Fatal("no validation observed")
	}
	return r.validations[len(r.validations)-1]
}

func (r *observations) refreshList() []observe.Refresh {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.refreshes)
}

type ctxKey struct{}

func TestObserverValidations(t *testing.T) {
	a := bearertest.New(t)
	rec := &observations{}
	v := newValidator(t, a, bearer.Config{ClientID: bearertest.DefaultClientID, ClientSecret: bearertest.DefaultClientSecret, Observer: rec})
	jwt := a.Token(claims(nil))
	ref := a.ReferenceToken(claims(nil))
	ctx := context.WithValue(context.Background(), ctxKey{}, "request")

	for _, tc := range []struct {
		name           string
		token          string
		format, source string
		kind, reason   error
	}{
		{"no token", "", "", "", bearer.ErrNoToken, nil},
		{"jwt first", jwt, "jwt", "local", nil, nil},
		{"jwt again", jwt, "jwt", "cache", nil, nil},
		{"reference first", ref, "opaque", "introspection", nil, nil},
		{"reference again", ref, "opaque", "cache", nil, nil},
		{"expired jwt", a.Token(claims(bearertest.Payload{"exp": time.Now().Add(-time.Hour).Unix()})), "jwt", "local", bearer.ErrInvalidToken, bearer.ErrExpired},
		{"unknown reference", "unknown-reference-token", "opaque", "introspection", bearer.ErrInvalidToken, bearer.ErrInactive},
		{"too large", string(make([]byte, bearer.DefaultMaxTokenSize+1)), "opaque", "", bearer.ErrInvalidToken, bearer.ErrTooLarge},
		{"another scope, none required", a.Token(bearertest.Payload{"aud": "api", "scope": "other"}), "jwt", "local", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := v.Validate(ctx, tc.token)
			got := rec.last(t)
			if got.Format != tc.format || got.Source != tc.source {
				t.Errorf("format %q source %q, want %q %q", got.Format, got.Source, tc.format, tc.source)
			}
			if !errors.Is(got.Err, err) || (err == nil) != (got.Err == nil) {
				t.Errorf("Err %v, Validate returned %v", got.Err, err)
			}
			if tc.kind != nil && !errors.Is(got.Err, tc.kind) {
				t.Errorf("Err %v, want %v", got.Err, tc.kind)
			}
			if tc.reason != nil && !errors.Is(got.Err, tc.reason) {
				t.Errorf("Err %v, want %v", got.Err, tc.reason)
			}
			if got.Start.Before(start) || got.Duration < 0 || got.Start.Add(got.Duration).After(time.Now()) {
				t.Errorf("Start %v Duration %v outside the call", got.Start, got.Duration)
			}
		})
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for i, c := range rec.validateCtxs {
		if c.Value(ctxKey{}) != "request" {
			t.Errorf("validation %d: not the request's context", i)
		}
	}
	// One call for the first sight of each reference token; the second
	// sight came from the cache.
	if len(rec.calls) != 2 || !rec.calls[0].Active || rec.calls[1].Active || rec.calls[0].Err != nil {
		t.Errorf("introspection calls %+v, want an active answer then an inactive one", rec.calls)
	}
	if rec.introCtxs[0].Value(ctxKey{}) != "request" {
		t.Error("introspection call: not reported with the values of the request that caused it")
	}
}

func TestObserverScopeRefusal(t *testing.T) {
	a := bearertest.New(t)
	rec := &observations{}
	v := newValidator(t, a, bearer.Config{RequiredScopes: bearer.AnyOf("api"), Observer: rec})
	token := a.Token(bearertest.Payload{"scope": "other"})
	for _, source := range []string{"local", "cache"} {
		mustFail(t, v, token, bearer.ErrInsufficientScope, nil)
		if got := rec.last(t); got.Source != source || !errors.Is(got.Err, bearer.ErrInsufficientScope) {
			t.Errorf("source %q err %v, want %s and insufficient scope", got.Source, got.Err, source)
		}
	}
}

func TestObserverIntrospectionFailure(t *testing.T) {
	a := bearertest.New(t)
	rec := &observations{}
	v := newValidator(t, a, bearer.Config{ClientID: bearertest.DefaultClientID, ClientSecret: bearertest.DefaultClientSecret, Observer: rec})
	a.SetStatus(bearertest.Introspection, http.StatusInternalServerError)
	mustFail(t, v, a.ReferenceToken(claims(nil)), bearer.ErrUnavailable, nil)
	if got := rec.last(t); got.Source != "introspection" || !errors.Is(got.Err, bearer.ErrUnavailable) {
		t.Errorf("validation %+v, want introspection and unavailable", got)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.calls) != 1 || !errors.Is(rec.calls[0].Err, bearer.ErrUnavailable) || rec.calls[0].Active {
		t.Errorf("calls %+v, want one failed", rec.calls)
	}
}

func TestObserverRefreshes(t *testing.T) {
	a := bearertest.New(t)
	rec := &observations{}
	v := newValidator(t, a, bearer.Config{Observer: rec})
	got := rec.refreshList()
	if len(got) != 2 || got[0].Document != "discovery" || got[0].Trigger != "start" || got[0].Err != nil ||
		got[1].Document != "jwks" || got[1].Trigger != "start" || got[1].Err != nil || got[1].Keys == 0 {
		t.Fatalf("refreshes at start %+v, want discovery then jwks, both at start, with keys", got)
	}

	// A token signed with a key published since: fetched for it, and the
	// fetch carries the request's values, for a trace link.
	a.RotateKey("RS256")
	ctx := context.WithValue(context.Background(), ctxKey{}, "request")
	if _, err := v.Validate(ctx, a.Token(claims(nil))); err != nil {
		t.Fatal(err)
	}
	got = rec.refreshList()
	if len(got) != 3 || got[2].Document != "jwks" || got[2].Trigger != "unknown_kid" || got[2].Err != nil || got[2].Keys == 0 {
		t.Fatalf("refresh for the new key %+v, want jwks unknown_kid with keys", got[2:])
	}
	rec.mu.Lock()
	cause := rec.refreshCtxs[2]
	rec.mu.Unlock()
	if cause.Value(ctxKey{}) != "request" {
		t.Error("refresh for an unknown kid: not reported with the request's values")
	}

	// A failed fetch is reported as such.
	a.SetStatus(bearertest.JWKS, http.StatusInternalServerError)
	mustFail(t, v, a.TokenWith("RS256", map[string]any{"kid": "absent"}, claims(nil)), bearer.ErrUnavailable, nil)
	got = rec.refreshList()
	if last := got[len(got)-1]; last.Trigger != "unknown_kid" || last.Err == nil || last.Keys != 0 {
		t.Errorf("failed refresh %+v, want unknown_kid with an error", last)
	}
}

func TestObserverDiscoveryRetry(t *testing.T) {
	a := bearertest.New(t)
	a.SetDown(true)
	rec := &observations{}
	v, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"}, Observer: rec})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	ctx := context.WithValue(context.Background(), ctxKey{}, "request")
	mustFail(t, v, a.Token(claims(nil)), bearer.ErrUnavailable, nil)
	a.SetDown(false)
	// Requests wake the discovery loop; the first after the authority is
	// back gets an answer.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := v.Validate(ctx, a.Token(claims(nil))); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("authority back, still %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	got := rec.refreshList()
	var triggers []string
	for _, r := range got {
		if r.Document == "discovery" {
			triggers = append(triggers, r.Trigger)
		}
	}
	if len(triggers) < 2 || triggers[0] != "start" || got[0].Err == nil {
		t.Fatalf("discovery triggers %v (first %+v), want a failed start then more", triggers, got[0])
	}
	for _, tr := range triggers[1:] {
		if tr != "retry" && tr != "request" {
			t.Errorf("trigger %q after the start, want retry or request", tr)
		}
	}
	if last := got[len(got)-1]; last.Document != "jwks" || last.Err != nil {
		t.Errorf("last refresh %+v, want the key set fetched", last)
	}
}

func TestStatus(t *testing.T) {
	a := bearertest.New(t)
	a.SetDown(true)
	v, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"},
		ClientID: bearertest.DefaultClientID, ClientSecret: bearertest.DefaultClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_ = v.Ready(ctx) // the first attempt has failed, or is still under way
	if st := v.Status(); st.Ready || st.Keys != 0 || !st.KeysFetched.IsZero() {
		t.Fatalf("authority down: %+v, want not ready, no keys", st)
	}
	before := time.Now()
	a.SetDown(false)
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := v.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	st := v.Status()
	if !st.Ready || st.Keys == 0 || st.KeysFetched.Before(before) || st.LastError != nil || st.IntrospectionFailing {
		t.Fatalf("authority up: %+v, want ready, keys fetched since it came back, no error", st)
	}

	// A failing key refresh keeps the keys, and says why.
	a.SetStatus(bearertest.JWKS, http.StatusInternalServerError)
	mustFail(t, v, a.TokenWith("RS256", map[string]any{"kid": "absent"}, claims(nil)), bearer.ErrUnavailable, nil)
	if st2 := v.Status(); !st2.Ready || st2.Keys != st.Keys || !st2.KeysFetched.Equal(st.KeysFetched) || st2.LastError == nil {
		t.Errorf("after a failed refresh: %+v, want ready with the same keys and the error", st2)
	}

	// Introspection failing, then answering again.
	a.SetStatus(bearertest.Introspection, http.StatusBadGateway)
	mustFail(t, v, a.ReferenceToken(claims(nil)), bearer.ErrUnavailable, nil)
	if !v.Status().IntrospectionFailing {
		t.Error("introspection failing: not reported")
	}
	a.SetStatus(bearertest.Introspection, 0)
	mustValid(t, v, a.ReferenceToken(claims(nil)))
	if v.Status().IntrospectionFailing {
		t.Error("introspection answering again: still reported failing")
	}

	if err := v.Revoke(context.Background(), bearer.Revocation{Subject: "alice"}); err != nil {
		t.Fatal(err)
	}
	if n := v.Status().Revocations; n != 1 {
		t.Errorf("Revocations %d after one Revoke, want 1", n)
	}
}

func TestStatusStaticKeys(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{StaticKeys: a.JWKS()})
	if st := v.Status(); !st.Ready || st.Keys == 0 || !st.KeysFetched.IsZero() || st.LastError != nil {
		t.Errorf("static keys: %+v, want ready with keys never fetched", st)
	}
}
