package bearertest

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The credentials the introspection endpoint accepts until SetClient
// changes them.
const (
	DefaultClientID     = "api"
	DefaultClientSecret = "secret"
)

// introspection is the state behind the introspection endpoint.
type introspection struct {
	mu        sync.Mutex
	set       bool // SetClient was called; otherwise the defaults apply
	clientID  string
	secret    string
	clientKey crypto.PublicKey
	refs      map[string]map[string]any // reference token → claims
	revoked   map[string]bool
}

func (in *introspection) client() (id, secret string, key crypto.PublicKey) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.set {
		return DefaultClientID, DefaultClientSecret, in.clientKey
	}
	return in.clientID, in.secret, in.clientKey
}

// IntrospectionURL returns the introspection_endpoint published in the
// discovery document.
func (a *Authority) IntrospectionURL() string { return a.URL + a.path + "/introspect" }

// SetClient sets the one client the introspection endpoint accepts, by
// default DefaultClientID with DefaultClientSecret. It authenticates with
// client_secret_basic (each value form-urlencoded before the Basic
// encoding, RFC 6749 §2.3.1), with client_secret_post, or, once
// SetClientKey is called, with private_key_jwt. Anything else gets 401
// invalid_client.
func (a *Authority) SetClient(id, secret string) {
	a.intro.mu.Lock()
	defer a.intro.mu.Unlock()
	a.intro.set, a.intro.clientID, a.intro.secret = true, id, secret
}

// SetClientKey lets the client authenticate with private_key_jwt (RFC
// 7523): an assertion signed by the private half of key whose iss and sub
// are the client ID, whose aud names the issuer or one of the authority's
// endpoints, and which has not expired. nil turns it off.
func (a *Authority) SetClientKey(key crypto.PublicKey) {
	a.intro.mu.Lock()
	defer a.intro.mu.Unlock()
	a.intro.clientKey = key
}

// ReferenceToken returns a new opaque token that the introspection
// endpoint reports as active with the claims of c, until it expires or is
// revoked. The defaults are those of Token: iss=Issuer(), sub="alice",
// iat=now, exp=now+1h, a random jti and client_id="client"; c overrides or
// (with nil) removes them, and a token without exp never expires.
func (a *Authority) ReferenceToken(c Payload) string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	now := time.Now()
	claims := map[string]any{
		"iss":       a.issuer,
		"sub":       "alice",
		"iat":       now.Unix(),
		"exp":       now.Add(time.Hour).Unix(),
		"jti":       rand.Text(),
		"client_id": "client",
	}
	merge(claims, c)
	for name, v := range claims {
		if t, ok := v.(time.Time); ok {
			claims[name] = t.Unix()
		}
	}
	// Round-trip through JSON so that what is served is what was checked.
	var stored map[string]any
	d := json.NewDecoder(bytes.NewReader(mustJSON(claims)))
	d.UseNumber()
	if err := d.Decode(&stored); err != nil {
		panic("bearertest: " + err.Error())
	}
	a.intro.mu.Lock()
	defer a.intro.mu.Unlock()
	if a.intro.refs == nil {
		a.intro.refs = make(map[string]map[string]any)
	}
	a.intro.refs[token] = stored
	return token
}

// Revoke makes the introspection endpoint report token, a reference token
// or a JWT, as inactive from now on.
func (a *Authority) Revoke(token string) {
	a.intro.mu.Lock()
	defer a.intro.mu.Unlock()
	if a.intro.revoked == nil {
		a.intro.revoked = make(map[string]bool)
	}
	a.intro.revoked[token] = true
}

// serveIntrospection answers RFC 7662 requests. It knows reference tokens
// from ReferenceToken and JWTs signed with the authority's current keys;
// anything else, anything revoked or expired, is inactive. With Accept:
// application/token-introspection+jwt it answers with an RS256-signed JWT
// (RFC 9701).
func (a *Authority) serveIntrospection(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeStatus(w, http.StatusMethodNotAllowed)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	clientID, ok := a.authenticateClient(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="bearertest"`)
		oauthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	resp := a.introspect(token)
	if strings.Contains(r.Header.Get("Accept"), "application/token-introspection+jwt") {
		k := a.key("RS256")
		header := mustJSON(map[string]any{"alg": "RS256", "typ": "token-introspection+jwt", "kid": k.kid})
		payload := mustJSON(map[string]any{"iss": a.issuer, "aud": clientID, "iat": time.Now().Unix(), "token_introspection": resp})
		w.Header().Set("Content-Type", "application/token-introspection+jwt")
		w.Write([]byte(signWith(k, header, payload)))
		return
	}
	writeJSON(w, http.StatusOK, mustJSON(resp))
}

// introspect returns the response members for token.
func (a *Authority) introspect(token string) map[string]any {
	inactive := map[string]any{"active": false}
	a.intro.mu.Lock()
	claims, isRef := a.intro.refs[token]
	revoked := a.intro.revoked[token]
	a.intro.mu.Unlock()
	if revoked {
		return inactive
	}
	if !isRef {
		if claims = a.verifyJWT(token); claims == nil {
			return inactive
		}
	}
	now := time.Now()
	if exp, ok := claims["exp"]; ok && !before(now, exp) {
		return inactive
	}
	if nbf, ok := claims["nbf"]; ok && before(now, nbf) {
		return inactive
	}
	resp := make(map[string]any, len(claims)+1)
	for name, v := range claims {
		resp[name] = v
	}
	resp["active"] = true
	return resp
}

// before reports whether t is before the NumericDate v; a value that is
// not a number counts as in the past.
func before(t time.Time, v any) bool {
	n, ok := v.(json.Number)
	if !ok {
		return false
	}
	f, err := n.Float64()
	return err == nil && float64(t.UnixNano())/1e9 < f
}

// verifyJWT returns the payload of a JWT signed with one of the
// authority's current keys, or nil.
func (a *Authority) verifyJWT(token string) map[string]any {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	var claims map[string]any
	if !decodeSegment(parts[0], &h) || !decodeSegment(parts[1], &claims) {
		return nil
	}
	a.mu.Lock()
	k := a.current[h.Alg]
	a.mu.Unlock()
	if k == nil || k.kid != h.Kid {
		return nil
	}
	var key any = k.secret
	if k.priv != nil {
		key = k.priv.Public()
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || jwt.GetSigningMethod(h.Alg).Verify(parts[0]+"."+parts[1], sig, key) != nil {
		return nil
	}
	return claims
}

// authenticateClient checks the request's client authentication and
// returns the client ID. RFC 6749 §2.3 forbids using more than one method.
func (a *Authority) authenticateClient(r *http.Request) (string, bool) {
	id, secret, key := a.intro.client()
	user, pass, basic := r.BasicAuth()
	post := r.PostForm.Has("client_secret")
	assertion := r.PostForm.Has("client_assertion")
	if n := btoi(basic) + btoi(post) + btoi(assertion); n != 1 {
		return "", false
	}
	switch {
	case basic:
		u, err1 := url.QueryUnescape(user)
		p, err2 := url.QueryUnescape(pass)
		return id, err1 == nil && err2 == nil && u == id && p == secret
	case post:
		return id, r.PostForm.Get("client_id") == id && r.PostForm.Get("client_secret") == secret
	default:
		if key == nil || r.PostForm.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			return "", false
		}
		if cid := r.PostForm.Get("client_id"); cid != "" && cid != id {
			return "", false
		}
		return id, a.checkAssertion(r.PostForm.Get("client_assertion"), id, key)
	}
}

// checkAssertion verifies an RFC 7523 client assertion.
func (a *Authority) checkAssertion(assertion, clientID string, key crypto.PublicKey) bool {
	base := a.URL + a.path
	t, err := jwt.Parse(assertion, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}),
		jwt.WithIssuer(clientID), jwt.WithSubject(clientID), jwt.WithExpirationRequired())
	if err != nil {
		return false
	}
	aud, err := t.Claims.GetAudience()
	if err != nil {
		return false
	}
	return slices.ContainsFunc(aud, func(s string) bool {
		return s == a.issuer || s == base+"/introspect" || s == base+"/token"
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func decodeSegment(seg string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return false
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v) == nil
}

// oauthError answers with an RFC 6749 §5.2 error.
func oauthError(w http.ResponseWriter, code int, errorCode string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(mustJSON(map[string]string{"error": errorCode}))
}
