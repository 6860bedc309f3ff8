package main

import (
	"net/http"
	"testing"
	"time"
)

// TestOracle: the judge counts as wrong exactly a 200 for a token that
// must be refused, and a refusal, or a 503 outside a fault it depends on,
// for a good one; a sign-out is judged only once its bound has passed,
// after Redis is back if it was down.
func TestOracle(t *testing.T) {
	s := &soak{cfg: config{duration: time.Minute, bound: time.Second}, t0: time.Now().Add(-time.Minute)}
	s.series = newSeries(2*time.Minute, 1)
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1/values", nil)
	req.Header.Set("Authorization", "Bearer a-token")
	now := time.Now()
	// Redis was down from 40 s to 30 s ago; the authority's JWKS from 20
	// s to 15 s ago.
	s.windows = []window{
		{kind: "redis", name: "Redis down", from: now.Add(-40 * time.Second), to: now.Add(-30 * time.Second)},
		{kind: "authority", name: "JWKS down", from: now.Add(-20 * time.Second), to: now.Add(-15 * time.Second)},
	}
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	signedOutAt := func(at time.Time) *sess {
		se := &sess{id: "s"}
		se.started.Store(at.Add(-time.Millisecond).UnixNano())
		se.at.Store(at.UnixNano())
		return se
	}
	for _, tc := range []struct {
		name   string
		c      class
		start  time.Time
		status int
		se     *sess
		first  time.Time
		want   verdict
	}{
		{"good accepted", goodES256, ago(time.Second), 200, nil, time.Time{}, right},
		{"good refused", goodES256, ago(time.Second), 401, nil, time.Time{}, bad},
		{"good forbidden", cachedJWT, ago(time.Second), 403, nil, time.Time{}, bad},
		{"good 503 during a JWKS outage", goodES256, ago(17 * time.Second), 503, nil, time.Time{}, allowed},
		{"good 503 within the grace", goodES256, ago(11 * time.Second), 503, nil, time.Time{}, allowed},
		{"good 503 after the grace", goodES256, ago(9 * time.Second), 503, nil, time.Time{}, bad},
		{"good no answer after the grace", goodRef, ago(9 * time.Second), -1, nil, time.Time{}, bad},
		{"JWT 503 while Redis is down", goodES256, ago(35 * time.Second), 503, nil, time.Time{}, bad},
		{"DPoP 503 while Redis is down", dpopGood, ago(35 * time.Second), 503, nil, time.Time{}, allowed},
		{"bad accepted", expired, ago(time.Second), 200, nil, time.Time{}, bad},
		{"bad refused", expired, ago(time.Second), 401, nil, time.Time{}, right},
		{"bad refused 503", forged, ago(time.Second), 503, nil, time.Time{}, right},
		{"bad refused otherwise", wrongAud, ago(time.Second), 403, nil, time.Time{}, mismatch},
		{"no scope 403", noScope, ago(time.Second), 403, nil, time.Time{}, right},
		{"replay refused", dpopReplay, ago(time.Second), 401, nil, ago(2 * time.Second), right},
		{"replay accepted", dpopReplay, ago(time.Second), 200, nil, ago(2 * time.Second), bad},
		{"replay across a Redis restart", dpopReplay, ago(29 * time.Second), 200, nil, ago(31 * time.Second), unjudged},
		{"session live", session, ago(time.Second), 200, &sess{id: "s"}, time.Time{}, right},
		{"session refused while live", session, ago(time.Second), 401, &sess{id: "s"}, time.Time{}, bad},
		{"signed out within the bound", session, ago(5 * time.Second), 200, signedOutAt(ago(5500 * time.Millisecond)), time.Time{}, unjudged},
		{"signed out past the bound", session, ago(5 * time.Second), 200, signedOutAt(ago(7 * time.Second)), time.Time{}, bad},
		{"signed out, refused", session, ago(5 * time.Second), 401, signedOutAt(ago(7 * time.Second)), time.Time{}, right},
		// Acknowledged 40.5 s ago, Redis down from 40 s to 30 s ago: the
		// bound runs from 29.5 s ago (back, and the Stores reconnected).
		{"signed out as Redis went down, within the bound after", session, ago(29 * time.Second), 200, signedOutAt(ago(40500 * time.Millisecond)), time.Time{}, unjudged},
		{"signed out as Redis went down, past the bound after", session, ago(28 * time.Second), 200, signedOutAt(ago(40500 * time.Millisecond)), time.Time{}, bad},
		// Acknowledged 45 s ago: it had reached every replica before.
		{"signed out well before Redis went down", session, ago(35 * time.Second), 200, signedOutAt(ago(45 * time.Second)), time.Time{}, bad},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.stats = [nClasses]classStats{}
			s.wrongs = nil
			s.judge(tc.c, 0, req, tc.start, tc.start.Add(time.Millisecond), tc.status, tc.se, tc.first)
			c := tc.c
			if tc.se != nil && tc.se.at.Load() != 0 {
				c = signedOut
			}
			got := -1
			for v, n := range s.stats[c].verdicts {
				if n == 1 {
					got = v
				}
			}
			if verdict(got) != tc.want {
				t.Errorf("verdict %d, want %d", got, tc.want)
			}
			if (tc.want == bad) != (len(s.wrongs) == 1) {
				t.Errorf("%d wrong verdicts recorded", len(s.wrongs))
			}
			if len(s.wrongs) == 1 && s.wrongs[0].fingerprint == "a-token" {
				t.Error("the report holds the token")
			}
		})
	}
}
