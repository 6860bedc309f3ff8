package bearer

import (
	"testing"
	"time"
)

func TestRefreshRetriesSoonerAfterAFailure(t *testing.T) {
	interval := time.Hour
	delay, retry := interval, minRefreshRetry
	var got []time.Duration
	for _, failed := range []bool{true, true, true, false, true} {
		delay, retry = nextRefresh(interval, retry, failed)
		got = append(got, delay)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, time.Hour, time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delays %v, want %v", got, want)
		}
	}
	// The backoff never exceeds maxRefreshRetry, nor the interval.
	retry = minRefreshRetry
	for range 20 {
		delay, retry = nextRefresh(interval, retry, true)
	}
	if delay != maxRefreshRetry {
		t.Errorf("backoff reached %v, want %v", delay, maxRefreshRetry)
	}
	if d, _ := nextRefresh(time.Minute, maxRefreshRetry, true); d != time.Minute {
		t.Errorf("backoff beyond a one-minute interval: %v", d)
	}
}
