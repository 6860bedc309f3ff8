package bearer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// Claims are the validated claims of an access token, from a JWT's payload
// or an introspection response. Claim names are not renamed: the typed
// fields mirror the registered claims, Map and Decode give the rest.
//
// Validated tokens are cached, but every call of Validate returns Claims
// of its own: a handler that changes them (appends to Scopes, say) changes
// nothing for the next request with the same token.
type Claims struct {
	Issuer    string    // iss
	Subject   string    // sub
	Audience  []string  // aud, a string or an array on the wire
	ExpiresAt time.Time // exp
	IssuedAt  time.Time // iat; zero if absent
	NotBefore time.Time // nbf; zero if absent
	ID        string    // jti
	ClientID  string    // client_id
	// Scopes merges scope and scp, each a space-separated string or an
	// array of strings. Only U+0020 separates, and only RFC 6749 §3.3
	// scope-tokens are kept: "a\u00a0b" is neither a nor b, and left out.
	Scopes    []string
	SessionID string // sid
	// Confirmation is the raw cnf member (RFC 7800), kept for
	// sender-constrained tokens; nil if absent.
	Confirmation json.RawMessage
	// ACR is the authentication context class reference the user signed
	// in with (acr, RFC 9470 §6.1), as ACR requirements read it; "" if
	// absent or not a string.
	ACR string
	// AuthTime is when the user signed in (auth_time), as MaxAge
	// requirements read it; zero if absent or not a NumericDate.
	AuthTime time.Time

	raw string                         // the JSON object the claims were read from
	m   atomic.Pointer[map[string]any] // Map's result, once decoded
	// block is the claimsBlock these claims were made in, if any: where
	// NewContext finds the context node reserved for them. A copy of
	// Claims by value keeps the pointer but is not &block.Claims, so it
	// does not use the node.
	block *claimsBlock
	by    *authority // the authority that accepted the token, if known
	// dpopType: an introspection answer's token_type was DPoP, so the
	// token is DPoP-bound even if the answer omits cnf (RFC 9449 §6.2).
	dpopType bool
}

// Authority returns the issuer identifier of the authority that accepted
// the token, as discovered (for a Validator of several authorities, the
// one its iss chose), or "" for claims not made by a Validator.
func (c *Claims) Authority() string {
	if c.by == nil || c.by.p == nil {
		return ""
	}
	if r := c.by.p.current.Load(); r != nil {
		return r.issuer
	}
	return c.by.s.issuer
}

// HasScope reports whether the token was granted scope (exact match).
func (c *Claims) HasScope(scope string) bool { return slices.Contains(c.Scopes, scope) }

// AMR returns the authentication methods the user signed in with (amr,
// RFC 8176: "pwd", "otp", "hwk", …), or nil if absent or not an array of
// strings. It is read from the claims on each call, so that a cache hit
// need not copy it.
func (c *Claims) AMR() []string {
	raw := rawMember(c.raw, "amr")
	if raw == "" || raw[0] != '[' {
		return nil
	}
	sc := newScanner(raw)
	list, _, err := sc.strings()
	if err != nil {
		return nil
	}
	return list
}

// Decode unmarshals all claims into v, for custom claims:
//
//	var ext struct{ Tenant string `json:"tenant"` }
//	err := claims.Decode(&ext)
func (c *Claims) Decode(v any) error { return json.Unmarshal(bytesOf(c.raw), v) }

// Map returns every claim as decoded by encoding/json. It is decoded on
// first use and kept with the Claims value: every call on the same Claims
// returns the same map, so changing it changes what later calls of Map
// on the same Claims return, and nothing else.
func (c *Claims) Map() map[string]any {
	if m := c.m.Load(); m != nil {
		return *m
	}
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(c.raw))
	d.UseNumber()
	_ = d.Decode(&m)
	// A pointer rather than a sync.Once keeps Claims within its size
	// class; of two first calls at once, both decode and one map is kept.
	if c.m.CompareAndSwap(nil, &m) {
		return m
	}
	return *c.m.Load()
}

// MarshalJSON writes the claims as they were issued; none, for a nil or
// hand-made Claims, as {} (a Result made by hand, whose Claims is nil,
// reaches it through the embedding).
func (c *Claims) MarshalJSON() ([]byte, error) {
	if c == nil || c.raw == "" {
		return []byte("{}"), nil
	}
	return []byte(c.raw), nil
}

type claimsKey struct{}

// NewContext returns a copy of ctx that carries c.
func NewContext(ctx context.Context, c *Claims) context.Context {
	// Claims made by a Validator have a context node reserved beside
	// them, so that a request's claims and its context are one allocation;
	// the first call takes it, any other gets a node of its own.
	if c != nil {
		if b := c.block; b != nil && &b.Claims == c && b.ctx.claims.CompareAndSwap(nil, c) {
			b.ctx.Context = ctx
			return &b.ctx
		}
	}
	return context.WithValue(ctx, claimsKey{}, c)
}

// claimsContext is context.WithValue(parent, claimsKey{}, claims), made
// in the room a claimsBlock has for it. claims is set once, by the
// NewContext that takes the node, and the parent then; the node is
// reachable only through that call's result.
type claimsContext struct {
	context.Context
	claims atomic.Pointer[Claims]
}

func (c *claimsContext) Value(key any) any {
	// claimsKey has one value: its type is enough to compare.
	if _, ok := key.(claimsKey); ok {
		return c.claims.Load()
	}
	return c.Context.Value(key)
}

func (c *claimsContext) String() string {
	return fmt.Sprint(c.Context) + ".WithValue(bearer.claimsKey, *bearer.Claims)"
}

// ClaimsFromContext returns the claims the middleware put on ctx.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok && c != nil
}

// wireClaims is the payload as it is decoded: one pass of encoding/json
// with strict types, so that "exp":"soon" or "iss":1 is malformed, not
// silently zero.
type wireClaims struct {
	Iss      string          `json:"iss"`
	Sub      string          `json:"sub"`
	Aud      audience        `json:"aud"`
	Exp      numericDate     `json:"exp"`
	Iat      numericDate     `json:"iat"`
	Nbf      numericDate     `json:"nbf"`
	Jti      string          `json:"jti"`
	ClientID string          `json:"client_id"`
	Scope    scopeList       `json:"scope"`
	Scp      scopeList       `json:"scp"`
	Sid      string          `json:"sid"`
	Cnf      json.RawMessage `json:"cnf"`
	// acr and auth_time of another type are taken as absent: they can
	// then meet no requirement, and tokens of APIs that need none still
	// pass.
	Acr      string      `json:"-"`
	AuthTime numericDate `json:"-"`
	// Events is set if the payload has an events member, the mark of a
	// security event token such as a logout token (RFC 8417 §2.2); it is
	// never part of an access token.
	Events bool `json:"-"`

	// A single aud and a short space-separated scope, the usual forms,
	// are held here rather than in lists of their own, and claims copies
	// them into the room a claimsBlock has for them.
	audOne      string
	audIsOne    bool // audOne holds aud; Aud is nil
	scopeBuf    [blockScopes]string
	scopeN      int
	scopeInline bool // scopeBuf[:scopeN] holds scope; Scope is nil
}

// blockScopes is how many scopes a Claims holds without a list of their own.
const blockScopes = 4

// claimsBlock is Claims with room for its audience and scopes, so that a
// typical token's claims are one allocation, and one object for the
// garbage collector to scan while they are cached, instead of three; and
// with room for the context that carries them (NewContext), so that the
// claims a request gets and the context the middleware hands on are one
// allocation too. It fills its size class (416 bytes): a cache hit makes
// one per request.
type claimsBlock struct {
	Claims
	aud    [1]string
	scopes [blockScopes]string
	ctx    claimsContext
}

// cloneInto copies c into b and returns the copy, which shares nothing a
// caller can change with c: the audience and scopes are copied into b's
// room for them (or into lists of their own, if larger), Confirmation into
// bytes of its own. The JSON claims are a string, which cannot change;
// Map's result is decoded again when asked for.
func (c *Claims) cloneInto(b *claimsBlock) *Claims {
	b.Claims = Claims{
		Issuer:    c.Issuer,
		Subject:   c.Subject,
		ExpiresAt: c.ExpiresAt,
		IssuedAt:  c.IssuedAt,
		NotBefore: c.NotBefore,
		ID:        c.ID,
		ClientID:  c.ClientID,
		SessionID: c.SessionID,
		ACR:       c.ACR,
		AuthTime:  c.AuthTime,
		raw:       c.raw,
		block:     b,
		by:        c.by,
		dpopType:  c.dpopType,
	}
	d := &b.Claims
	d.Audience = copyInto(b.aud[:], c.Audience)
	d.Scopes = copyInto(b.scopes[:], c.Scopes)
	if c.Confirmation != nil {
		d.Confirmation = bytes.Clone(c.Confirmation)
	}
	return d
}

// clone returns a copy of c, in one allocation for a typical token (see
// cloneInto): what a cache hit costs, so that no two requests share
// claims.
func (c *Claims) clone() *Claims { return c.cloneInto(new(claimsBlock)) }

// copyInto returns a copy of list, in room if it fits; nil stays nil. The
// copy's capacity is its length, so that appending to it copies again.
func copyInto(room, list []string) []string {
	if list == nil {
		return nil
	}
	if len(list) > len(room) {
		return slices.Clone(list)
	}
	n := copy(room, list)
	return room[:n:n]
}

func (w *wireClaims) claims(raw string) *Claims {
	b := &claimsBlock{Claims: Claims{
		Issuer:       w.Iss,
		Subject:      w.Sub,
		Audience:     w.Aud,
		ExpiresAt:    w.Exp.time(),
		IssuedAt:     w.Iat.time(),
		NotBefore:    w.Nbf.time(),
		ID:           w.Jti,
		ClientID:     w.ClientID,
		Scopes:       w.Scope,
		SessionID:    w.Sid,
		Confirmation: w.Cnf,
		ACR:          w.Acr,
		AuthTime:     w.AuthTime.time(),
		raw:          raw,
	}}
	c := &b.Claims
	c.block = b
	if w.audIsOne {
		b.aud[0] = w.audOne
		c.Audience = b.aud[:1:1]
	}
	// An empty scope is no scope, nil as splitScopes makes it.
	if w.scopeInline && w.scopeN > 0 {
		n := copy(b.scopes[:], w.scopeBuf[:w.scopeN])
		c.Scopes = b.scopes[:n:n]
	}
	for _, s := range w.Scp {
		if !slices.Contains(c.Scopes, s) {
			c.Scopes = append(c.Scopes, s)
		}
	}
	return c
}

// audience reads aud as a string or an array of strings (RFC 7519 §4.1.3).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*a = nil
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*a = list
	return nil
}

var errNumericDate = errors.New("not a NumericDate")

// numericDate is RFC 7519's NumericDate: a JSON number of seconds, possibly
// fractional. Strings, booleans and values out of range are malformed;
// null is the same as absent. It is held by value, not as a pointer, so
// that a payload decodes without a heap allocation for its dates.
type numericDate struct {
	t   time.Time
	set bool // false if absent or null
}

func (n *numericDate) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*n = numericDate{}
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return errNumericDate
	}
	// Beyond year ~2^40 seconds time.Time arithmetic overflows; no real
	// token needs it.
	if math.IsNaN(f) || math.Abs(f) > 1<<40 {
		return errNumericDate
	}
	sec, frac := math.Modf(f)
	*n = numericDate{t: time.Unix(int64(sec), int64(frac*1e9)), set: true}
	return nil
}

func (n *numericDate) time() time.Time {
	if n == nil {
		return time.Time{}
	}
	return n.t
}
