package redis

import (
	"context"
	"encoding/json"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/redis/rueidis"
)

// Get returns the introspection answer stored under key: from the local
// tier if it is there, else from Redis within Options.Timeout, keeping it
// locally for the time it has left. A Redis that is down, slow or
// holding something unreadable is a miss.
func (s *Store) Get(ctx context.Context, key string) (*bearer.Result, bool) {
	if r, ok := s.local.get(key); ok {
		return r, true
	}
	c, err := s.conn()
	if err != nil {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	k := s.keys.introspection + key
	res := c.DoMulti(ctx, c.B().Get().Key(k).Build(), c.B().Pttl().Key(k).Build())
	b, err := res[0].AsBytes()
	if err != nil {
		s.failed(err)
		return nil, false
	}
	ttl, err := res[1].AsInt64()
	if err != nil || ttl <= 0 {
		return nil, false
	}
	var r bearer.Result
	if err := json.Unmarshal(b, &r); err != nil {
		s.log.WarnContext(ctx, "bearer/redis: an unreadable introspection answer in Redis was skipped", "error", err)
		return nil, false
	}
	s.local.put(key, &r, time.Duration(ttl)*time.Millisecond)
	return &r, true
}

// Put stores r under key for ttl, locally and in Redis. A Redis that
// cannot take it leaves the other replicas to ask the authority.
func (s *Store) Put(ctx context.Context, key string, r *bearer.Result, ttl time.Duration) {
	s.local.put(key, r, ttl)
	c, err := s.conn()
	if err != nil {
		return
	}
	b, err := json.Marshal(r)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	s.failed(c.Do(ctx, c.B().Set().Key(s.keys.introspection+key).Value(rueidis.BinaryString(b)).Px(max(ttl, time.Millisecond)).Build()).Error())
}

// Delete removes what is stored under key, locally, in Redis and in the
// local tiers of the other replicas.
func (s *Store) Delete(ctx context.Context, key string) {
	s.local.remove(key)
	c, err := s.conn()
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	for _, res := range c.DoMulti(ctx,
		c.B().Del().Key(s.keys.introspection+key).Build(),
		c.B().Publish().Channel(s.keys.deleted).Message(key).Build()) {
		if s.failed(res.Error()) != nil {
			return
		}
	}
}

// listen removes from the local tier what other replicas delete. While it
// is not subscribed it may miss deletions, so it empties the local tier
// each time it subscribes.
func (s *Store) listen() {
	defer s.wg.Done()
	for s.waitUp(s.ctx) {
		c, err := s.conn()
		if err != nil {
			continue
		}
		s.local.purge()
		err = c.Receive(s.ctx, c.B().Subscribe().Channel(s.keys.deleted).Build(), func(m rueidis.PubSubMessage) {
			s.local.remove(m.Message)
		})
		if s.ctx.Err() != nil {
			return
		}
		s.failed(err)
		if _, down := s.conn(); down == nil {
			// Redis is up and ended the subscription: not in a loop.
			t := time.NewTimer(time.Second)
			select {
			case <-t.C:
			case <-s.ctx.Done():
				t.Stop()
				return
			}
		}
	}
}
