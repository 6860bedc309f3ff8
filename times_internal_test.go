package bearer

import (
	"errors"
	"testing"
	"time"
)

// TestTimesAtTheEdges checks exp, nbf and iat exactly at the edges of the
// leeway, which the HTTP-level tests can only approach (RFC 7519 §4.1.4:
// the current time must be before exp; §4.1.5: after or equal to nbf;
// each moved by the leeway).
func TestTimesAtTheEdges(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	const ns = time.Nanosecond
	for _, leeway := range []time.Duration{0, defaultLeeway} {
		v := &authority{s: &settings{leeway: leeway}}
		for _, tc := range []struct {
			name string
			c    *Claims
			want error
		}{
			{"exp at now-leeway", &Claims{ExpiresAt: now.Add(-leeway)}, ErrExpired},
			{"exp 1ns after now-leeway", &Claims{ExpiresAt: now.Add(-leeway + ns)}, nil},
			{"nbf at now+leeway", &Claims{ExpiresAt: now.Add(time.Hour), NotBefore: now.Add(leeway)}, nil},
			{"nbf 1ns after now+leeway", &Claims{ExpiresAt: now.Add(time.Hour), NotBefore: now.Add(leeway + ns)}, ErrNotYetValid},
			{"iat at now+leeway", &Claims{ExpiresAt: now.Add(time.Hour), IssuedAt: now.Add(leeway)}, nil},
			{"iat 1ns after now+leeway", &Claims{ExpiresAt: now.Add(time.Hour), IssuedAt: now.Add(leeway + ns)}, ErrIssuedInFuture},
			{"exp before nbf, both fine", &Claims{ExpiresAt: now.Add(-leeway + ns), NotBefore: now.Add(leeway)}, nil},
		} {
			err := v.checkTimes(tc.c, now)
			if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Errorf("leeway %v, %s: %v, want %v", leeway, tc.name, err, tc.want)
			}
		}
	}
}
