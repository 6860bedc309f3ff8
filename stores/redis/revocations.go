package redis

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/redis/rueidis"
)

// Revocations live twice in Redis: in a sorted set scored by their expiry
// (Unix ms), which holds every one in force for a replica that subscribes
// late or again, and in a stream, which delivers each new one to the
// replicas subscribed. The member of both is the revocation's JSON, so a
// revocation published twice is stored once.

// DefaultStreamLength is Options.StreamLength's default. A subscriber
// reads each entry within milliseconds of its addition, and one that was
// disconnected replays the sorted set instead: only one that stayed
// connected yet fell this far behind replays it too.
const DefaultStreamLength = 10000

// maxKnown bounds the revocations a Store remembers to fill an emptied
// Redis again, as bearer bounds its own copy.
const maxKnown = 1 << 20

// Revoke records r in Redis until r.Expires and delivers it to every
// subscribed replica. While Redis cannot be reached it queues r, to be
// published when Redis returns, and returns an error matching ErrQueued.
func (s *Store) Revoke(ctx context.Context, r bearer.Revocation) error {
	if r.Expires.IsZero() {
		r.Expires = time.Now().Add(defaultMaxTokenLifetime)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	member, exp := string(b), r.Expires.UnixMilli()
	s.remember(member, exp)
	c, err := s.conn()
	if err == nil {
		err = s.failed(s.publish(ctx, c, member, exp, true))
	}
	if err != nil {
		s.wake()
		return fmt.Errorf("%w: %w", ErrQueued, err)
	}
	s.mu.Lock()
	delete(s.queued, member)
	s.mu.Unlock()
	return nil
}

// remember keeps member among the revocations known, and queued until
// published.
func (s *Store) remember(member string, exp int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forgetExpired()
	if len(s.known) < maxKnown {
		s.known[member] = exp
	}
	if len(s.queued) < maxKnown {
		s.queued[member] = exp
	}
}

// forgetExpired drops the expired revocations from known and queued, once
// known has doubled since it last did. s.mu is held.
func (s *Store) forgetExpired() {
	if len(s.known) < s.forgetAt {
		return
	}
	now := time.Now().UnixMilli()
	for m, e := range s.known {
		if e <= now {
			delete(s.known, m)
			delete(s.queued, m)
		}
	}
	s.forgetAt = max(2*len(s.known), 1024)
}

// revocation is one to publish: its member, expiry, and whether it is
// new (live), so that the stream carries it whatever the set held.
type revocation struct {
	member string
	exp    int64
	live   bool
}

// publish adds member to the sorted set and, if live or if the set did
// not have it (Redis lost it, and a replica may have replayed the set
// without it), to the stream; and drops what has expired from the set.
func (s *Store) publish(ctx context.Context, c rueidis.Client, member string, exp int64, live bool) error {
	return s.publishBatch(ctx, c, []revocation{{member, exp, live}})
}

// publishBatch publishes each of batch as publish does, in two round
// trips for them all: one of ZADDs, one of XADDs for those live or new to
// the set.
func (s *Store) publishBatch(ctx context.Context, c rueidis.Client, batch []revocation) error {
	zadds := make(rueidis.Commands, 0, len(batch))
	for _, r := range batch {
		zadds = append(zadds, c.B().Zadd().Key(s.keys.revocations).ScoreMember().ScoreMember(float64(r.exp), r.member).Build())
	}
	cmds := rueidis.Commands{
		c.B().Zremrangebyscore().Key(s.keys.revocations).Min("-inf").Max("(" + strconv.FormatInt(time.Now().UnixMilli(), 10)).Build(),
	}
	for i, res := range c.DoMulti(ctx, zadds...) {
		added, err := res.AsInt64()
		if err != nil {
			return err
		}
		if batch[i].live || added > 0 {
			cmds = append(cmds, c.B().Xadd().Key(s.keys.stream).Maxlen().Almost().Threshold(strconv.Itoa(s.maxLen)).Id("*").FieldValue().FieldValue("r", batch[i].member).Build())
		}
	}
	for _, res := range c.DoMulti(ctx, cmds...) {
		if err := res.Error(); err != nil {
			return err
		}
	}
	return nil
}

// republishBatch is how many revocations one round trip writes back.
const republishBatch = 1000

// republish publishes the revocations queued and, if all, writes back the
// others known, for a Redis that may have lost them: a batch per round
// trip, so that a Redis restarted empty is filled again, and the Store
// back, within milliseconds of its return however many are in force.
func (s *Store) republish(ctx context.Context, c rueidis.Client, all bool) error {
	s.mu.Lock()
	now := time.Now().UnixMilli()
	var entries []revocation
	for m, e := range s.known {
		if e <= now {
			delete(s.known, m)
			delete(s.queued, m)
			continue
		}
		_, q := s.queued[m]
		if !q && !all {
			continue
		}
		entries = append(entries, revocation{m, e, q})
	}
	s.mu.Unlock()
	for len(entries) > 0 {
		batch := entries[:min(len(entries), republishBatch)]
		entries = entries[len(batch):]
		if err := s.publishBatch(ctx, c, batch); err != nil {
			return err
		}
		s.mu.Lock()
		for _, r := range batch {
			if r.live {
				delete(s.queued, r.member)
			}
		}
		s.mu.Unlock()
	}
	return nil
}

// Subscribe delivers every revocation in force, calls synced, then
// delivers each new one, until ctx ends. While Redis cannot be reached it
// waits for it, and then delivers again what is in force, so that nothing
// revoked meanwhile is missed, and calls synced again; it returns only
// when ctx ends.
func (s *Store) Subscribe(ctx context.Context, deliver func(bearer.Revocation), synced func()) error {
	pause := time.Second
	for s.waitUp(ctx) {
		c, err := s.conn()
		if err == nil {
			err = s.follow(ctx, c, deliver, synced)
		}
		if ctx.Err() != nil || s.ctx.Err() != nil {
			break
		}
		s.failed(err)
		if _, down := s.conn(); down != nil {
			continue // waitUp waits for the monitor
		}
		// Redis is up but refused: a key of another type under the
		// prefix, say. Try again later rather than in a loop.
		s.log.Warn("bearer/redis: reading revocations failed; trying again", "error", err, "in", pause)
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		case <-s.ctx.Done():
			t.Stop()
		}
		pause = min(2*pause, 30*time.Second)
	}
	return nil
}

// errBehind: the stream was trimmed past entries not read yet.
var errBehind = errors.New("redis: fell behind the revocations stream")

// follow replays the sorted set, then reads the stream from where it
// stood before the replay, so that a revocation added meanwhile is
// delivered by one or the other. A reader that fell so far behind that
// entries it had not read were trimmed from the stream replays the set
// again: those revocations are there.
func (s *Store) follow(ctx context.Context, c rueidis.Client, deliver func(bearer.Revocation), synced func()) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()
	for {
		at, err := s.streamInfo(ctx, c)
		if err != nil {
			return err
		}
		if err := s.replay(ctx, c, deliver); err != nil {
			return err
		}
		synced()
		err = s.read(ctx, c, position{at.last, at.added}, deliver)
		if !errors.Is(err, errBehind) {
			return err
		}
		s.log.Warn("bearer/redis: this replica fell more than Options.StreamLength revocations behind; replaying every revocation in force")
	}
}

// position is a reader's place in the stream: the id of the last entry
// read, and how many entries had been added up to it (-1: unknown, before
// Redis 7.0).
type position struct {
	id    string
	added int64
}

// read delivers the stream's entries after at until ctx ends, Redis
// fails, or entries after at were trimmed before they were read
// (errBehind).
func (s *Store) read(ctx context.Context, c rueidis.Client, at position, deliver func(bearer.Revocation)) error {
	for {
		// BLOCK is bounded so that an abandoned read ends soon after ctx.
		streams, err := c.Do(ctx, c.B().Xread().Count(100).Block(5000).Streams().Key(s.keys.stream).Id(at.id).Build()).AsXRead()
		if rueidis.IsRedisNil(err) {
			continue // nothing new within BLOCK
		}
		if err != nil {
			return err
		}
		entries := streams[s.keys.stream]
		if len(entries) == 0 {
			continue
		}
		// Delivered first, so that the check delays none: a gap found
		// after them is filled by replaying the sorted set.
		for _, e := range entries {
			s.deliver(e.FieldValues["r"], deliver)
		}
		info, err := s.streamInfo(ctx, c)
		if err != nil {
			return err
		}
		if gap, err := info.trimmedAfter(at); err != nil || gap {
			return cmp.Or(err, errBehind)
		}
		at.id = entries[len(entries)-1].ID
		if at.added >= 0 {
			at.added += int64(len(entries))
		}
	}
}

// streamState is what XINFO STREAM says of the stream.
type streamState struct {
	last   string // last-generated-id: what was added last
	added  int64  // entries-added, ever (-1: unknown, before Redis 7.0)
	length int64
	first  string // the first entry's id; empty if there is none
}

// streamInfo reads the stream's state; a stream that does not exist yet
// is one that nothing was added to.
func (s *Store) streamInfo(ctx context.Context, c rueidis.Client) (streamState, error) {
	st := streamState{last: "0-0"}
	info, err := c.Do(ctx, c.B().XinfoStream().Key(s.keys.stream).Build()).AsMap()
	if e, ok := rueidis.IsRedisErr(err); ok && strings.Contains(e.Error(), "no such key") {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	last, length := info["last-generated-id"], info["length"]
	if st.last, err = last.ToString(); err != nil {
		return st, err
	}
	if st.length, err = length.AsInt64(); err != nil {
		return st, err
	}
	st.added = -1
	if m, ok := info["entries-added"]; ok {
		if st.added, err = m.AsInt64(); err != nil {
			return st, err
		}
	}
	if m, ok := info["first-entry"]; ok && !m.IsNil() {
		e, err := m.AsXRangeEntry()
		if err != nil {
			return st, err
		}
		st.first = e.ID
	}
	return st, nil
}

// trimmedAfter reports whether entries added after at may have been
// trimmed before they were read. Trimming drops the oldest entries: since
// Redis 7.0 (entries-added), a gap is more entries dropped than were added
// up to at. Before, it is a first entry past at, which then was trimmed
// too (a reader that started on an empty stream, at 0-0, cannot tell).
func (st streamState) trimmedAfter(at position) (bool, error) {
	switch {
	case st.added >= 0 && at.added >= 0:
		return st.added-st.length > at.added, nil
	case st.first == "" || at.id == "0-0":
		return false, nil
	default:
		return laterID(st.first, at.id)
	}
}

// laterID reports whether stream id a (ms-seq) comes after b.
func laterID(a, b string) (bool, error) {
	x, err := parseID(a)
	if err != nil {
		return false, err
	}
	y, err := parseID(b)
	if err != nil {
		return false, err
	}
	return x[0] > y[0] || x[0] == y[0] && x[1] > y[1], nil
}

func parseID(id string) ([2]uint64, error) {
	ms, seq, ok := strings.Cut(id, "-")
	a, err1 := strconv.ParseUint(ms, 10, 64)
	b, err2 := strconv.ParseUint(seq, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return [2]uint64{}, fmt.Errorf("redis: %q is not a stream entry id", id)
	}
	return [2]uint64{a, b}, nil
}

// replayChunk is how many revocations one read of the sorted set returns.
const replayChunk = 1000

// replay delivers the revocations in force, in order of expiry, a chunk
// at a time. Each chunk starts at the last score read, past the members
// already read at that score: one that expires meanwhile shifts the
// offset, which can only skip others that expired, and one added
// meanwhile is delivered by the stream.
func (s *Store) replay(ctx context.Context, c rueidis.Client, deliver func(bearer.Revocation)) error {
	from, offset := "("+strconv.FormatInt(time.Now().UnixMilli(), 10), int64(0)
	for {
		chunk, err := c.Do(ctx, c.B().Zrange().Key(s.keys.revocations).Min(from).Max("+inf").Byscore().
			Limit(offset, replayChunk).Withscores().Build()).AsZScores()
		if err != nil {
			return err
		}
		for _, z := range chunk {
			s.deliver(z.Member, deliver)
		}
		if len(chunk) < replayChunk {
			return nil
		}
		last := chunk[len(chunk)-1].Score
		if next := strconv.FormatFloat(last, 'f', -1, 64); next != from {
			from, offset = next, 0
		}
		for _, z := range chunk {
			if z.Score == last {
				offset++
			}
		}
	}
}

// deliver decodes a member, remembers it and passes it on.
func (s *Store) deliver(member string, deliver func(bearer.Revocation)) {
	var r bearer.Revocation
	if err := json.Unmarshal([]byte(member), &r); err != nil {
		s.log.Warn("bearer/redis: an unreadable revocation in Redis was skipped", "error", err)
		return
	}
	if !time.Now().Before(r.Expires) {
		return
	}
	s.mu.Lock()
	s.forgetExpired()
	if _, ok := s.known[member]; !ok && len(s.known) < maxKnown {
		s.known[member] = r.Expires.UnixMilli()
	}
	s.mu.Unlock()
	deliver(r)
}

// defaultMaxTokenLifetime keeps a revocation without Expires as long as
// the core's default Config.MaxTokenLifetime does.
const defaultMaxTokenLifetime = 24 * time.Hour
