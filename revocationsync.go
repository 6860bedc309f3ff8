package bearer

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// defaultRevocationSyncTimeout is Config.RevocationSyncTimeout's default:
// long enough for a store to replay a million revocations, short enough
// that a replica whose store is down at start still serves soon.
const defaultRevocationSyncTimeout = 10 * time.Second

// errNotSynced: a Validator with Config.RequireRevocationSync has not yet
// received the revocations in force from its store.
var errNotSynced = errors.New("bearer: the revocations in force have not been received from Config.RevocationStore yet")

// revocationSync tracks whether a Validator holds the revocations that
// were in force in its RevocationStore when it started: until it does, a
// token revoked on another replica is accepted here. The authorities of a
// Validator of several share their parent's.
type revocationSync struct {
	done     chan struct{} // closed by the store's first synced call
	once     sync.Once
	deadline time.Time // Ready waits for done until then, unless required
	required bool      // RequireRevocationSync
	// refusing is set while every token is refused for want of them
	// (required): one atomic load on a cache hit.
	refusing atomic.Bool
}

// newRevocationSync returns the state of a Validator whose revocations
// come from a store (store false: in sync at once), with Config's
// RevocationSyncTimeout and RequireRevocationSync.
func newRevocationSync(store bool, timeout time.Duration, required bool) *revocationSync {
	rs := &revocationSync{done: make(chan struct{}), required: store && required}
	if !store {
		rs.synced()
		return rs
	}
	rs.refusing.Store(rs.required)
	if timeout == 0 {
		timeout = defaultRevocationSyncTimeout
	}
	rs.deadline = time.Now().Add(max(timeout, 0))
	return rs
}

// synced is what the store calls once it has delivered the revocations in
// force; calls after the first change nothing.
func (rs *revocationSync) synced() {
	rs.once.Do(func() {
		rs.refusing.Store(false)
		close(rs.done)
	})
}

// isSynced reports whether the store has delivered them.
func (rs *revocationSync) isSynced() bool {
	select {
	case <-rs.done:
		return true
	default:
		return false
	}
}

// wait is Ready's wait for the revocations in force: until they arrive,
// ctx ends, or, unless they are required, the deadline passes, after
// which the replica serves with what it holds.
func (rs *revocationSync) wait(ctx context.Context, log *slog.Logger) error {
	if rs.isSynced() {
		return nil
	}
	var deadline <-chan time.Time
	if !rs.required {
		t := time.NewTimer(time.Until(rs.deadline))
		defer t.Stop()
		deadline = t.C
	}
	select {
	case <-rs.done:
		return nil
	case <-deadline:
		log.WarnContext(ctx, "bearer: the revocation store has not delivered the revocations in force within RevocationSyncTimeout; tokens revoked on other replicas are accepted here until it does")
		return nil
	case <-ctx.Done():
		if rs.isSynced() {
			return nil
		}
		return joinErrors(ctx.Err(), errNotSynced)
	}
}
