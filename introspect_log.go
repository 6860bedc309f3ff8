package bearer

import (
	"sync"
	"sync/atomic"
	"time"
)

// logEvery is how often a run of failed or refused introspection calls,
// or of logout tokens refused unverified, is logged again, with a count,
// while it lasts.
const logEvery = time.Minute

// episode turns a run of like events, such as the failed calls of an
// outage, into few log lines: one when the first comes, then at most one
// per logEvery with how many came since the last, and one when the run
// ends. Logging every failure would flood the logs at the worst moment.
type episode struct {
	on atomic.Bool // a run is under way; read without mu on the hot path

	mu    sync.Mutex
	since time.Time // the first event of the run
	last  time.Time // the last line logged
	count int       // events since that line
	total int       // events in the run
}

// event records an event at now. It reports first for the event that
// begins a run; otherwise n is how many events came since the last line
// if it is time for another (logEvery has passed), else 0. since is when
// the run began.
func (e *episode) event(now time.Time) (first bool, n int, since time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.on.Load() {
		e.on.Store(true)
		e.since, e.last, e.count, e.total = now, now, 0, 1
		return true, 1, now
	}
	e.count++
	e.total++
	if now.Sub(e.last) < logEvery {
		return false, 0, e.since
	}
	n, e.last, e.count = e.count, now, 0
	return false, n, e.since
}

// end ends the run under way, if any, and returns how many events it had
// and when it began; ok is false if there was none.
func (e *episode) end() (total int, since time.Time, ok bool) {
	if !e.on.Load() {
		return 0, time.Time{}, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.on.Load() {
		return 0, time.Time{}, false
	}
	e.on.Store(false)
	return e.total, e.since, true
}

// consequence is what a failure means, as a log line says it: for a
// Validator, onRequests (its requests get 503); for an Introspector of
// NewIntrospector, which serves no request, onIntrospect (its callers get
// ErrUnavailable).
func (s *settings) consequence(onRequests, onIntrospect string) string {
	if s.standalone {
		return onIntrospect
	}
	return onRequests
}
