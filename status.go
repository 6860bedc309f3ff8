package bearer

import "time"

// Status is what a Validator knows of its authority and holds in its
// caches at a moment, for readiness probes and dashboards. Reading it
// never waits on the network.
type Status struct {
	// Ready reports that the authority's metadata and keys have been
	// fetched: tokens are judged. (Validator.Ready also waits for
	// RevocationsSynced.)
	Ready bool
	// Keys is the number of signing keys in use.
	Keys int
	// KeysFetched is when the keys in use were fetched, and so how old
	// they are; zero for static keys, and before the first fetch.
	KeysFetched time.Time
	// LastError is why the latest attempt to discover the authority, or
	// to fetch its keys, failed; nil if it succeeded. After a failed key
	// refresh the last good keys stay in use: Ready stays true.
	LastError error
	// IntrospectionFailing reports that the latest introspection call
	// failed (the endpoint unreachable, failing, or refusing the API's
	// credentials), so that reference tokens not cached get 503.
	IntrospectionFailing bool
	// KeyWaiters is the number of requests waiting now for a fetch of the
	// authority's keys, their tokens naming a key not yet known. They wait
	// for at most 256 distinct key IDs at once; a token naming yet another
	// gets 503 with Retry-After, so that tokens with made-up key IDs cannot
	// hold requests without bound. Any number wait for a key ID already
	// waited for, as every token of a new key does at a rotation.
	KeyWaiters int
	// Revocations is the number of revocations kept (back-channel
	// logouts, Revoke, RevokeToken), including expired ones not yet
	// dropped.
	Revocations int
	// RevocationsSynced reports that the Config.RevocationStore has
	// delivered the revocations in force when the Validator started;
	// true at once without one. Until then a token revoked on another
	// replica is accepted here, or, with Config.RequireRevocationSync,
	// every token gets 503. Once true it stays true: a store lost later
	// delays only what this replica learns of new revocations.
	RevocationsSynced bool
	// CacheHits counts the JWTs served from the validated-token cache,
	// without a signature check, since the Validator started.
	CacheHits uint64
	// CacheMisses counts the JWTs that had to be validated in full.
	CacheMisses uint64
	// CacheEntries is the number of validated tokens cached now.
	CacheEntries int
	// IntrospectionEntries is the number of introspection answers held
	// in memory now, expired ones not yet dropped included; zero with a
	// Config.IntrospectionCache, which keeps them elsewhere.
	IntrospectionEntries int
}

// Status returns what v knows of its authority now, and its caches'
// counters (all zero when caching is off). For a Validator made by
// NewMulti it describes the authorities of MultiConfig.Authorities
// together: Ready when all are, the fewest keys, the oldest key set, the
// first error, all the key waiters, the revocations of every issuer,
// whether they are in sync, the shared validated-token cache and all the
// introspection answers held.
func (v *Validator) Status() Status {
	st := Status{Ready: true}
	for i, iss := range v.order {
		s := v.fixed[issuerKey(iss)].status()
		st.Ready = st.Ready && s.Ready
		if i == 0 || s.Keys < st.Keys {
			st.Keys = s.Keys
		}
		if st.KeysFetched.IsZero() || (!s.KeysFetched.IsZero() && s.KeysFetched.Before(st.KeysFetched)) {
			st.KeysFetched = s.KeysFetched
		}
		if st.LastError == nil {
			st.LastError = s.LastError
		}
		st.IntrospectionFailing = st.IntrospectionFailing || s.IntrospectionFailing
		st.KeyWaiters += s.KeyWaiters
		st.IntrospectionEntries += s.IntrospectionEntries
	}
	st.CacheHits, st.CacheMisses, st.CacheEntries = v.cache.counts()
	st.Revocations = v.revocationCount()
	st.RevocationsSynced = v.revSync.isSynced()
	return st
}

// status is what the Status of a's Validator says of a alone.
func (a *authority) status() Status {
	var st Status
	p := a.p
	p.mu.Lock()
	st.LastError = p.lastErr
	p.mu.Unlock()
	if r := p.current.Load(); r != nil {
		st.Ready = true
		if ks := r.keys; ks != nil {
			if keys := ks.keys.Load(); keys != nil {
				st.Keys = len(*keys)
			}
			ks.mu.Lock()
			st.KeysFetched, st.LastError = ks.fetched, ks.lastErr
			for _, n := range ks.waiting {
				st.KeyWaiters += n
			}
			ks.mu.Unlock()
		}
	}
	if a.in != nil {
		st.IntrospectionFailing = a.in.failures.on.Load()
	}
	st.IntrospectionEntries = a.in.entries()
	return st
}
