// Package redis shares a bearer.Validator's state between the replicas of
// an API through Redis: revocations (bearer.RevocationStore), the logout
// tokens and other ids already seen (FirstSeen), and introspection answers
// (bearer.IntrospectionCache). One Store serves as both:
//
//	store, err := redis.New(redis.Options{URL: "rediss://:secret@redis.internal:6379/0", Prefix: "orders-api"})
//	if err != nil { … }
//	defer store.Close() // after the Validator's Close
//	v, err := bearer.New(ctx, bearer.Config{
//		Authority: …, ClientID: …, ClientSecret: …,
//		RevocationStore:    store,
//		IntrospectionCache: store,
//	})
//
// # Nothing on the request path waits on Redis
//
// A Validator checks revocations against its own copy, which Subscribe
// keeps current: a Redis Stream delivers each new revocation as it is
// made, and a sorted set, scored by expiry, holds every revocation in
// force for a replica that starts late or comes back after a disconnect,
// which replays it (and tells the Validator when it is done, for Ready
// and Status.RevocationsSynced), as does one that fell so far behind that
// the stream, trimmed to Options.StreamLength, lost entries it had not
// read. Redis must not evict these keys: run it with maxmemory-policy
// noeviction. An introspection answer is looked up in a local tier
// (an LRU of decoded answers, a map lookup) first; only a miss there asks
// Redis, within Options.Timeout, and only a miss in Redis asks the
// authority. A Delete is broadcast so that the other replicas drop their
// local copy too.
//
// # Faults
//
// The Store starts whether Redis answers or not, and reconnects with
// backoff; it logs one line when Redis goes away and one when it is back.
// Meanwhile:
//   - requests are served from local state; an introspection miss goes to
//     the authority, and its answer is kept locally;
//   - a revocation holds at once on the replica that made it; Revoke
//     returns an error matching ErrQueued, and the Store publishes it when
//     Redis returns (from this process's memory: a replica that exits
//     first loses it);
//   - FirstSeen returns an error: a replay check that cannot reach Redis
//     fails closed. The logout endpoint answers it with 503 and
//     Retry-After, which makes the authority try again later, rather than
//     a 401 or 400 that blames a token that may be good;
//   - a Redis that comes back empty (restarted without persistence) is
//     filled again: on reconnecting, each Store writes back the
//     revocations in force it knows, and announces on the stream those
//     Redis had lost, so a replica started afterwards enforces them too.
//     Introspection answers and ids seen are gone with it.
//
// # Why rueidis
//
// The client is github.com/redis/rueidis: its automatic pipelining keeps a
// busy API's lookups on one connection without a pool to size, it serves
// blocking XREAD from a separate pool of its own, it speaks RESP2 and
// RESP3, cluster and sentinel, and its ParseURL takes redis://, rediss://
// (TLS) and unix:// URLs with user and password, as users write them. Its
// client-side cache is not used: a hit would still decode JSON, and the
// local tier here keeps decoded answers.
package redis
