package main

// class is a kind of request, whose right verdict is known by
// construction.
type class int

const (
	cachedJWT class = iota // a JWT minted at the start: cached by every replica after its first use
	goodRS256              // a JWT from a pool minted again at each key rotation
	goodPS256
	goodES256
	goodEdDSA
	goodRef     // a reference token, from a pool: cached after its first introspection
	freshRef    // a reference token never seen: introspected
	dpopGood    // a DPoP-bound JWT with a fresh proof
	session     // a JWT of a session not signed out (when sent)
	expired     // exp 10 minutes ago
	wrongAud    // aud another API
	noScope     // without the scope the API requires
	forged      // a good token's payload changed under its signature
	randomKid   // signed by a key the authority never published
	garbage     // not a token
	revokedRef  // a reference token the authority says is inactive
	dpopWrong   // a DPoP-bound JWT with a proof by another key
	dpopReplay  // a proof accepted a moment ago, sent again to another replica
	signedOut   // a JWT of a session signed out a bound ago
	unboundDPoP // a DPoP-bound JWT sent as a plain bearer token, no proof
	nClasses
)

var classNames = [nClasses]string{
	"jwt-cached", "jwt-rs256", "jwt-ps256", "jwt-es256", "jwt-eddsa", "ref-cached", "ref-fresh", "dpop", "session",
	"expired", "wrong-aud", "no-scope", "forged-sig", "random-kid", "garbage", "ref-revoked",
	"dpop-wrong-key", "dpop-replayed", "signed-out", "dpop-no-proof",
}

func (c class) String() string { return classNames[c] }

// good reports whether a request of c must be accepted.
func (c class) good() bool { return c <= session }

// cached reports whether c is a token the replicas have seen before, so
// that it is served from their caches: the latency target's classes.
func (c class) cached() bool { return c <= goodRef }

// status is the refusal expected of a bad class: 403 for a token without
// the scope, 401 otherwise. Another refusal is counted as a mismatch, not
// a wrong verdict.
func (c class) status() int {
	if c == noScope {
		return 403
	}
	return 401
}

// usesRedis: the request needs Redis (a DPoP proof's replay check), so a
// 503 is allowed while Redis is down.
func (c class) usesRedis() bool { return c == dpopGood }

// weights of each class in the traffic, per 1000 requests. A dpopGood
// request accepted is followed by a dpopReplay one some of the time, and
// session requests become signedOut ones for sessions signed out.
var weights = [nClasses]int{
	cachedJWT: 150, goodRS256: 60, goodPS256: 40, goodES256: 80, goodEdDSA: 60,
	goodRef: 120, freshRef: 10, dpopGood: 80, session: 150,
	expired: 30, wrongAud: 30, noScope: 30, forged: 30, randomKid: 20, garbage: 30,
	revokedRef: 20, dpopWrong: 20, unboundDPoP: 20,
}
