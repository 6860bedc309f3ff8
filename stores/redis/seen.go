package redis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/redis/rueidis"
)

// FirstSeen records id until expires and reports whether no replica had
// recorded it before, in one step: SET key 1 NX PXAT expires. id may be
// anything (a logout token's issuer and jti, a DPoP proof's jti); Redis
// holds only its SHA-256. When Redis cannot answer, FirstSeen returns the
// error: the caller must refuse the token, since it cannot tell a replay
// from a first use.
func (s *Store) FirstSeen(ctx context.Context, id string, expires time.Time) (bool, error) {
	c, err := s.conn()
	if err != nil {
		return false, err
	}
	sum := sha256.Sum256([]byte(id))
	// At least 1 ms ahead: an expiry in the past is an error in Redis.
	at := expires
	if soonest := time.Now().Add(time.Millisecond); at.Before(soonest) {
		at = soonest
	}
	err = c.Do(ctx, c.B().Set().Key(s.keys.seen+hex.EncodeToString(sum[:])).Value("1").Nx().Pxat(at).Build()).Error()
	switch {
	case err == nil:
		return true, nil
	case rueidis.IsRedisNil(err):
		return false, nil
	}
	return false, s.failed(err)
}
