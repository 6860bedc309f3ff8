package bearer_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// TestMaxKeySetAge: while the JWKS endpoint fails, the last good keys
// verify tokens until they are MaxKeySetAge old; from then on tokens that
// need them get 503 with Retry-After, never 401, and requests ask for a
// fetch (trigger "stale"), so that the keys are used again as soon as the
// endpoint answers.
func TestMaxKeySetAge(t *testing.T) {
	a := bearertest.New(t)
	obs := &observations{}
	const maxAge = 300 * time.Millisecond
	v := newValidator(t, a, bearer.Config{
		KeyRefreshInterval: 50 * time.Millisecond, KeyRefreshWindow: 10 * time.Millisecond, MaxKeySetAge: maxAge,
		CacheSize: -1, Observer: obs, Logger: (&logBuffer{}).logger(),
	})
	tok := a.Token(claims(nil))
	mustValid(t, v, tok)

	a.SetStatus(bearertest.JWKS, http.StatusInternalServerError)
	var refused time.Time
	for deadline := time.Now().Add(10 * time.Second); refused.IsZero(); time.Sleep(5 * time.Millisecond) {
		_, err := v.Validate(context.Background(), tok)
		switch {
		case errors.Is(err, bearer.ErrUnavailable):
			refused = time.Now()
		case err != nil:
			t.Fatalf("while the keys age: %v", err)
		case time.Now().After(deadline):
			t.Fatal("keys still in use 10 s into the outage")
		}
	}
	st := v.Status()
	if age := refused.Sub(st.KeysFetched); age < maxAge {
		t.Errorf("refused when the keys were %v old, before MaxKeySetAge %v", age, maxAge)
	}
	if st.LastError == nil {
		t.Error("Status().LastError is nil during the outage")
	}
	e := mustUnavailable(t, validateErr(v, tok))
	if !strings.Contains(e.Error(), "MaxKeySetAge") {
		t.Errorf("error %q does not say why", e.Error())
	}
	mustUnavailable(t, validateErr(v, a.TokenWith("ES256", map[string]any{"kid": "unknown"}, claims(nil))))
	for deadline := time.Now().Add(10 * time.Second); !refreshedFor(obs, "stale"); time.Sleep(5 * time.Millisecond) {
		mustUnavailable(t, validateErr(v, tok))
		if time.Now().After(deadline) {
			t.Fatal("no fetch asked for by the requests refused")
		}
	}

	a.SetStatus(bearertest.JWKS, 0)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		_, err := v.Validate(context.Background(), tok)
		if err == nil {
			break
		}
		if !errors.Is(err, bearer.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("after the endpoint came back: %v", err)
		}
	}
}

// refreshedFor reports whether obs saw a fetch of the keys with trigger.
func refreshedFor(obs *observations, trigger string) bool {
	for _, r := range jwksRefreshes(obs) {
		if r.Trigger == trigger {
			return true
		}
	}
	return false
}

// TestMaxKeySetAgeConfig: what MaxKeySetAge cannot be.
func TestMaxKeySetAgeConfig(t *testing.T) {
	a := bearertest.New(t)
	for name, tc := range map[string]struct {
		cfg  bearer.Config
		want string
	}{
		"negative":                 {bearer.Config{MaxKeySetAge: -time.Second}, "negative"},
		"below the default":        {bearer.Config{MaxKeySetAge: 30 * time.Minute}, "shorter than KeyRefreshInterval"},
		"below KeyRefreshInterval": {bearer.Config{MaxKeySetAge: time.Minute, KeyRefreshInterval: 2 * time.Minute}, "shorter than KeyRefreshInterval"},
		"with static keys":         {bearer.Config{MaxKeySetAge: 2 * time.Hour, StaticKeys: a.JWKS()}, "StaticKeys never age"},
	} {
		t.Run(name, func(t *testing.T) {
			tc.cfg.Authority, tc.cfg.Audience = a.Issuer(), []string{"api"}
			v, err := bearer.New(context.Background(), tc.cfg)
			if err == nil {
				v.Close()
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to say %q", err, tc.want)
			}
		})
	}
	v := newValidator(t, a, bearer.Config{MaxKeySetAge: time.Hour})
	mustValid(t, v, a.Token(claims(nil)))
}
