package bearer_test

import (
	"context"
	"errors"
	"testing"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// TestObserverMulti: a Validator of several authorities reports each
// validation once to MultiConfig.Observer, whichever authority judged the
// token or none did; an authority without an Observer of its own reports
// its fetches and calls there too, and one with its own is told of its
// fetches only, never of validations.
func TestObserverMulti(t *testing.T) {
	a, b := bearertest.New(t), bearertest.New(t)
	rec, own := &observations{}, &observations{}
	v := newMulti(t, bearer.MultiConfig{Observer: rec, Authorities: []bearer.Config{
		{Authority: a.Issuer(), Audience: []string{"api"}, ClientID: bearertest.DefaultClientID, ClientSecret: bearertest.DefaultClientSecret, Logger: quiet},
		{Authority: b.Issuer(), Audience: []string{"api"}, Logger: quiet, Observer: own},
	}})
	ctx := context.Background()
	fromB := b.Token(claims(nil))
	tokens := []struct {
		token          string
		format, source string
		err            error
	}{
		{a.Token(claims(nil)), "jwt", "local", nil},
		{fromB, "jwt", "local", nil},
		{fromB, "jwt", "cache", nil}, // from the shared cache
		{a.ReferenceToken(claims(nil)), "opaque", "introspection", nil},
		{bearertest.New(t).Token(claims(nil)), "jwt", "", bearer.ErrIssuer}, // no authority to ask
		{"", "", "", bearer.ErrNoToken},
	}
	for _, tc := range tokens {
		_, err := v.Validate(ctx, tc.token)
		if (tc.err == nil) != (err == nil) || tc.err != nil && !errors.Is(err, tc.err) {
			t.Fatalf("Validate: %v, want %v", err, tc.err)
		}
	}
	if st := v.Status(); st.IntrospectionEntries != 1 || st.CacheEntries != 2 {
		t.Errorf("Status %+v, want the two JWTs and the one introspection answer", st)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	own.mu.Lock()
	defer own.mu.Unlock()
	if len(rec.validations) != len(tokens) {
		t.Fatalf("%d validations reported, want %d: %+v", len(rec.validations), len(tokens), rec.validations)
	}
	for i, got := range rec.validations {
		if want := tokens[i]; got.Format != want.format || got.Source != want.source || !errors.Is(got.Err, want.err) || (got.Err == nil) != (want.err == nil) {
			t.Errorf("validation %d: format %q source %q err %v, want %q %q %v", i, got.Format, got.Source, got.Err, want.format, want.source, want.err)
		}
	}
	if len(own.validations) != 0 {
		t.Errorf("an authority's own Observer was told of %d validations", len(own.validations))
	}
	if len(rec.calls) != 1 || len(own.calls) != 0 {
		t.Errorf("introspection calls: %d to MultiConfig.Observer (want 1), %d to b's own", len(rec.calls), len(own.calls))
	}
	if len(rec.refreshes) != 2 || len(own.refreshes) != 2 {
		t.Errorf("fetches: %+v to MultiConfig.Observer, %+v to b's own; want each authority's discovery and keys", rec.refreshes, own.refreshes)
	}
}

// TestObserverScheme: a validation says whether the token came with the
// DPoP scheme, so that DPoP's outcomes can be told from Bearer's.
func TestObserverScheme(t *testing.T) {
	a := bearertest.New(t)
	rec := &observations{}
	v := newValidator(t, a, bearer.Config{Observer: rec})
	key := bearertest.NewDPoPKey("ES256")
	bound := a.Token(claims(bearertest.Payload{"cnf": key.Confirmation()}))
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		p      bearer.Presentation
		scheme string
		reason error
	}{
		{"DPoP", dpopRequest(key, bound, nil), "DPoP", nil},
		{"DPoP, scheme in lower case", bearer.Presentation{Scheme: "dpop", Token: bound, Method: "GET", URL: apiURL, DPoP: []string{key.Proof("GET", apiURL, bound)}}, "DPoP", nil},
		{"DPoP, proof for another URL", bearer.Presentation{Scheme: "DPoP", Token: bound, Method: "GET", URL: apiURL, DPoP: []string{key.Proof("GET", "https://other.example/", bound)}}, "DPoP", bearer.ErrDPoPProof},
		{"bound token as Bearer", bearer.Presentation{Scheme: "Bearer", Token: bound}, "Bearer", bearer.ErrBinding},
		{"Bearer", bearer.Presentation{Token: a.Token(claims(nil))}, "Bearer", nil},
	} {
		_, err := v.ValidatePresentation(ctx, tc.p)
		got := rec.last(t)
		if got.Scheme != tc.scheme || !errors.Is(got.Err, err) || (got.Err == nil) != (err == nil) {
			t.Errorf("%s: scheme %q err %v; want %q, and ValidatePresentation's %v", tc.name, got.Scheme, got.Err, tc.scheme, err)
		}
		if tc.reason != nil && !errors.Is(err, tc.reason) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.reason)
		}
	}
}
