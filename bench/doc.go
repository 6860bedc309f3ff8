// Package bench measures github.com/accesstoken/bearer side by side with
// the bare signature check and with peer libraries.
//
// It is its own Go module so that the peers (golang-jwt, keyfunc, auth0's
// go-jwt-middleware, go-oidc, jwx) never enter the core's go.mod. Every
// contender validates the same token, minted by a bearertest.Authority on
// loopback, and is configured with the same checks: signature with the
// authority's published key, iss, aud, exp and the scope "api". Keys are
// fetched once, before any timer starts. TestContenders proves each
// contender accepts the token and refuses tampered, expired, misaddressed
// and under-scoped ones, so that a misconfigured peer cannot win by doing
// less.
//
// bearer-revoked is bearer-warm with 10 000 revocations in force (what
// 5 000 back-channel logouts leave), none of which matches the token: what
// the revocation check costs a cache hit. Measure it against bearer-warm
// with cmd/paired -baseline bearer-warm.
//
// The benchmarks are in bench_test.go (go test -bench), the paired runs in
// cmd/paired, the HTTP throughput runs in cmd/httpbench, the heap per
// cached token in cmd/memory, the replicas sharing state on Redis
// (stores/redis) in cmd/replicas; cmd/table summarises go test output. run.sh
// runs them all and BENCHMARKS.md at the repository root reports one run.
// What waits for the core's validated-token cache goes through the hooks
// in cache.go.
package bench
