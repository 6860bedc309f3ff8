package bearer_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// jwksServer serves a's JWK Set as a CDN or an identity provider would:
// with an ETag, a Last-Modified, both or neither, answering conditional
// requests by net/http's rules (http.ServeContent). It keeps what each
// request asked and what it was answered.
type jwksServer struct {
	a                  *bearertest.Authority
	url                string
	etag, lastModified bool

	mu       sync.Mutex
	body     []byte
	modified time.Time // advanced a second at each change of the set
	log      []jwksRequest
}

type jwksRequest struct {
	header http.Header
	status int
}

func newJWKSServer(t *testing.T, a *bearertest.Authority, etag, lastModified bool) *jwksServer {
	s := &jwksServer{a: a, etag: etag, lastModified: lastModified, modified: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

func (s *jwksServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body := s.a.JWKS()
	s.mu.Lock()
	if !bytes.Equal(body, s.body) {
		s.body, s.modified = body, s.modified.Add(time.Second)
	}
	var modified time.Time
	if s.lastModified {
		modified = s.modified
	}
	s.mu.Unlock()
	if s.etag {
		w.Header().Set("ETag", fmt.Sprintf(`"%x"`, sha256.Sum256(body)))
	}
	w.Header().Set("Content-Type", "application/json")
	rec := &codeRecorder{ResponseWriter: w, code: http.StatusOK}
	http.ServeContent(rec, r, "", modified, bytes.NewReader(body))
	s.mu.Lock()
	s.log = append(s.log, jwksRequest{r.Header.Clone(), rec.code})
	s.mu.Unlock()
}

// requests returns what the server was asked so far.
func (s *jwksServer) requests() []jwksRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// waitRequests waits until the server has answered n requests.
func (s *jwksServer) waitRequests(t *testing.T, n int) []jwksRequest {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if r := s.requests(); len(r) >= n {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests for the JWK Set in 10 s, want %d", len(s.requests()), n)
		}
	}
}

type codeRecorder struct {
	http.ResponseWriter
	code int
}

func (c *codeRecorder) WriteHeader(code int) {
	c.code = code
	c.ResponseWriter.WriteHeader(code)
}

// TestJWKSConditionalRefresh: where the authority offers an ETag or a
// Last-Modified, routine refreshes ask whether the set changed
// (If-None-Match, If-Modified-Since); a 304 keeps the keys and is a
// successful refresh (the set's age starts again); a changed set is
// fetched whole and used. Where it offers neither, nothing is asked.
func TestJWKSConditionalRefresh(t *testing.T) {
	for _, tc := range []struct {
		name               string
		etag, lastModified bool
	}{{"ETag", true, false}, {"Last-Modified", false, true}, {"both", true, true}, {"neither", false, false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := bearertest.New(t)
			s := newJWKSServer(t, a, tc.etag, tc.lastModified)
			obs := &observations{}
			v := newValidator(t, a, bearer.Config{JWKSURL: s.url, KeyRefreshInterval: 20 * time.Millisecond, Observer: obs})
			tok := a.Token(claims(nil))
			mustValid(t, v, tok)
			first := v.Status().KeysFetched

			reqs := s.waitRequests(t, 3)
			if h := reqs[0].header; h.Get("If-None-Match") != "" || h.Get("If-Modified-Since") != "" {
				t.Errorf("first request asked %v", h)
			}
			for i, r := range reqs[1:3] {
				inm, ims := r.header.Get("If-None-Match"), r.header.Get("If-Modified-Since")
				if (inm != "") != tc.etag || (ims != "") != tc.lastModified {
					t.Errorf("refresh %d: If-None-Match %q, If-Modified-Since %q", i+1, inm, ims)
				}
				want := http.StatusNotModified
				if !tc.etag && !tc.lastModified {
					want = http.StatusOK
				}
				if r.status != want {
					t.Errorf("refresh %d answered %d, want %d", i+1, r.status, want)
				}
				if r.header.Get("Cache-Control") != "" {
					t.Errorf("routine refresh %d sent Cache-Control %q", i+1, r.header.Get("Cache-Control"))
				}
			}
			st := v.Status()
			if st.LastError != nil || st.Keys == 0 || !st.KeysFetched.After(first) {
				t.Errorf("after 304s: Status %+v, first fetch at %v", st, first)
			}
			for _, r := range jwksRefreshes(obs) {
				if r.Err != nil || r.Keys != st.Keys {
					t.Errorf("refresh %+v, want a success with %d keys", r, st.Keys)
				}
			}
			mustValid(t, v, tok)

			// A changed set is fetched whole, and its new key used.
			n := len(s.requests())
			a.RotateKey("ES256")
			reqs = s.waitRequests(t, n+2)
			if reqs[n+1].status != http.StatusOK && reqs[n].status != http.StatusOK {
				t.Errorf("the changed set was answered %d, %d", reqs[n].status, reqs[n+1].status)
			}
			before := a.Hits(bearertest.JWKS)
			mustValid(t, v, a.TokenWith("ES256", nil, claims(nil)))
			if a.Hits(bearertest.JWKS) != before {
				t.Error("the bearertest authority's own endpoint was asked")
			}
		})
	}
}

// TestJWKSUnknownKidAsksPastCaches: the fetch a token with an unknown kid
// causes sends Cache-Control: no-cache, so that a cache on the way asks
// the authority rather than answer with the set that lacks the key; it
// still asks whether the set changed.
func TestJWKSUnknownKidAsksPastCaches(t *testing.T) {
	a := bearertest.New(t)
	s := newJWKSServer(t, a, true, true)
	v := newValidator(t, a, bearer.Config{JWKSURL: s.url})
	if h := s.requests()[0].header; h.Get("Cache-Control") != "" {
		t.Errorf("first fetch sent Cache-Control %q", h.Get("Cache-Control"))
	}
	mustFail(t, v, a.TokenWith("RS256", map[string]any{"kid": "absent"}, claims(nil)), bearer.ErrInvalidToken, bearer.ErrUnknownKey)
	reqs := s.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	if h := reqs[1].header; h.Get("Cache-Control") != "no-cache" || h.Get("If-None-Match") == "" || reqs[1].status != http.StatusNotModified {
		t.Errorf("fetch for an unknown kid: %v, answered %d", h, reqs[1].status)
	}
	kid := a.RotateKey("RS256")
	mustValid(t, v, a.Token(claims(nil)))
	if reqs = s.requests(); len(reqs) != 3 || reqs[2].status != http.StatusOK || reqs[2].header.Get("Cache-Control") != "no-cache" {
		t.Errorf("fetch for the new kid %s: %+v", kid, reqs[len(reqs)-1])
	}
}

// TestJWKSUnaskedNotModified: a 304 to a request that asked nothing (a
// broken cache) is a failed fetch, never an empty key set.
func TestJWKSUnaskedNotModified(t *testing.T) {
	a := bearertest.New(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotModified) }))
	defer srv.Close()
	v, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), JWKSURL: srv.URL, Audience: []string{"api"}, Logger: (&logBuffer{}).logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	mustUnavailable(t, validateErr(v, a.Token(claims(nil))))
	if st := v.Status(); st.Ready || st.LastError == nil {
		t.Errorf("Status %+v", st)
	}
}
