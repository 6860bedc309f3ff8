package bearer

import (
	"math"
	"testing"
	"time"
)

// TestSinceUnix pins the age MaxAge judges to time.Time.Sub for every
// age a token can carry, sub-second parts and monotonic readings
// included, and to the far bound beyond 136 years, where Sub would give
// a larger age or saturate: either way outside any MaxAge.
func TestSinceUnix(t *testing.T) {
	now := time.Now() // with a monotonic reading, as the Validator's
	const far = (1 << 32) * time.Second
	for _, at := range []time.Time{
		now, now.Add(-time.Nanosecond), now.Add(time.Nanosecond),
		now.Add(-299*time.Second - 999*time.Millisecond), now.Add(-300 * time.Second), now.Add(-300*time.Second - time.Nanosecond),
		time.Unix(now.Unix()-60, 999_999_999), time.Unix(now.Unix()+60, 1),
		time.Unix(0, 0), time.Unix(-(1 << 31), 5), time.Unix(1<<33, 0).Add(-200 * 365 * 24 * time.Hour),
	} {
		if got, want := sinceUnix(now, at), now.Sub(at); got != want {
			t.Errorf("sinceUnix(now, %v) = %v, want %v", at, got, want)
		}
	}
	for _, c := range []struct {
		at   time.Time
		want time.Duration
	}{
		{time.Unix(now.Unix()-(1<<32)-1, 0), far},
		{time.Unix(now.Unix()+(1<<32)+1, 0), -far},
		{time.Unix(math.MinInt64/2, 0), far},
		{time.Unix(math.MaxInt64/2, 0), -far},
		{time.Unix(-(1 << 40), 0), far},
		{time.Unix(1<<40, 0), -far},
	} {
		if got := sinceUnix(now, c.at); got != c.want {
			t.Errorf("sinceUnix(now, %v) = %v, want %v", c.at, got, c.want)
		}
	}
}
