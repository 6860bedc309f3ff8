package redis

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/redis/rueidis"
)

// Options configure a Store. Only URL is required.
type Options struct {
	// URL is where Redis is: redis://[user:password@]host:port[/db],
	// rediss:// for TLS, or unix:///path/to/socket.
	URL string

	// Prefix starts every key and channel the Store uses; default
	// "bearer". APIs that share a Redis need one each: an authority may
	// answer an introspection differently for each API, and a revocation
	// of one API's tokens is not another's.
	Prefix string

	// Timeout bounds each lookup of an introspection answer in Redis,
	// after which it counts as a miss and the authority is asked; default
	// 100 ms. Revoke and FirstSeen wait as long as their context allows.
	Timeout time.Duration

	// LocalCacheSize bounds the local tier of introspection answers;
	// default 10 000, as the core's Config.CacheSize.
	LocalCacheSize int

	// StreamLength bounds the stream that carries each new revocation to
	// the replicas, roughly (XADD MAXLEN ~); default DefaultStreamLength.
	// A replica that falls further behind (paused, or busy replaying)
	// loses none: it notices, and replays every revocation in force.
	StreamLength int

	// TLSConfig, if set, is used for a rediss:// URL instead of the
	// default (the system's roots, TLS 1.2 or later): for a private CA
	// (RootCAs) or a client certificate (Certificates). The URL's host is
	// the server name unless it sets ServerName.
	TLSConfig *tls.Config

	// Logger receives the Store's state changes (Redis lost, Redis back);
	// default slog.Default(). No token is ever logged, nor stored: keys
	// are SHA-256 hashes.
	Logger *slog.Logger
}

// ErrQueued matches the error of a Revoke made while Redis cannot be
// reached: the revocation holds on this replica and is published to the
// others when Redis returns.
var ErrQueued = errors.New("redis: revocation queued until Redis returns")

// errUnavailable: not connected to Redis (yet, or any more).
var errUnavailable = errors.New("redis: not connected")

// Store keeps a Validator's shared state in Redis. It implements
// bearer.RevocationStore and bearer.IntrospectionCache; set it in both
// Config.RevocationStore and Config.IntrospectionCache. It is safe for
// concurrent use. Close it after the Validators that use it.
type Store struct {
	opt  rueidis.ClientOption
	keys keys
	log  *slog.Logger

	timeout time.Duration
	local   *localTier
	maxLen  int // Options.StreamLength

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	kick   chan struct{} // wakes the monitor

	mu     sync.Mutex
	client rueidis.Client // nil until the first connection
	up     bool
	upc    chan struct{} // closed while up
	down   bool          // Redis was reported unreachable
	// known holds every revocation in force this Store has seen, by
	// member, with its expiry in Unix ms, so that a Redis that comes back
	// empty is filled again. queued holds those not yet published.
	known    map[string]int64
	queued   map[string]int64
	forgetAt int // size of known at which expired ones are dropped
}

// keys are the names of the Store's keys and channels.
type keys struct {
	introspection, deleted, revocations, stream, seen string
}

// The sorted set and the stream of revocations share a hash tag, so that
// a Redis Cluster keeps them on one primary: a failover of it then breaks
// every replica's blocking read of the stream, and each replica writes
// back the revocations it knows, which a write acknowledged just before
// the failover, and lost with it, is among. Apart, the set's primary could
// fail over under readers that notice nothing, and a replica started
// later would miss what it lost.
func newKeys(prefix string) keys {
	return keys{
		introspection: prefix + ":introspection:",
		deleted:       prefix + ":introspection-deleted",
		revocations:   prefix + ":{revocations}",
		stream:        prefix + ":{revocations}-stream",
		seen:          prefix + ":seen:",
	}
}

// parseURL is rueidis.ParseURL with errors that never quote the password.
// Its errors quote the URL, or a piece of it; and a password with an
// unencoded /, ? or # ends the host early, so that what follows is read,
// and quoted, as a port, a database number or a path. So an error is that
// of the same URL with everything before the last @ of its authority, as
// a person reads it, replaced, or a fixed phrase if that URL parses: the
// password was at fault.
func parseURL(raw string) (rueidis.ClientOption, error) {
	opt, err := rueidis.ParseURL(raw)
	if err == nil {
		return opt, nil
	}
	scheme, rest := "", raw
	if i := strings.Index(raw, "://"); i >= 0 {
		scheme, rest = raw[:i+3], raw[i+3:]
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return opt, fmt.Errorf("redis: Options.URL: %w", err)
	}
	if _, err := rueidis.ParseURL(scheme + "xxxxx@" + rest[at+1:]); err != nil {
		return opt, fmt.Errorf("redis: Options.URL: %w", err)
	}
	return opt, errors.New("redis: Options.URL does not parse: percent-encode any /, ?, #, @ and % in its user name and password")
}

// New returns a Store for the Redis at o.URL. It checks o and returns at
// once: the connection is made in the background, and made again whenever
// it is lost, so an API starts while Redis is down.
func New(o Options) (*Store, error) {
	opt, err := parseURL(o.URL)
	if err != nil {
		return nil, err
	}
	if o.TLSConfig != nil {
		if opt.TLSConfig == nil {
			return nil, errors.New("redis: Options.TLSConfig needs a rediss:// URL")
		}
		c := o.TLSConfig.Clone()
		if c.ServerName == "" {
			c.ServerName = opt.TLSConfig.ServerName
		}
		opt.TLSConfig = c
	}
	if o.Prefix == "" {
		o.Prefix = "bearer"
	}
	if strings.ContainsAny(o.Prefix, " \r\n") {
		return nil, errors.New("redis: Options.Prefix has a space or line break")
	}
	if o.Timeout <= 0 {
		o.Timeout = 100 * time.Millisecond
	}
	if o.LocalCacheSize <= 0 {
		o.LocalCacheSize = defaultLocalCacheSize
	}
	if o.StreamLength <= 0 {
		o.StreamLength = DefaultStreamLength
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	// The answers kept are decoded ones in the local tier; see the
	// package doc.
	opt.DisableCache = true
	// A Redis that stops answering is noticed within this, not when TCP
	// gives up.
	opt.ConnWriteTimeout = 2 * time.Second
	// A command that fails must say so, not be retried on a new
	// connection unseen: a lost connection may be a Redis restarted
	// empty, which the monitor fills again.
	opt.DisableRetry = true
	opt.Dialer = net.Dialer{Timeout: 2 * time.Second}
	// What a Store sends and reads is small (a revocation's JSON, an
	// introspection answer): rueidis's default buffers of 0.5 MiB each way
	// on each connection made a connected Store hold 4 MB, allocated
	// again with each reconnection (a replica's RSS grew by as much after
	// a Redis outage). A larger reply is still read whole, through a
	// smaller buffer.
	opt.ReadBufferEachConn, opt.WriteBufferEachConn = connBuffer, connBuffer
	ctx, cancel := context.WithCancel(context.Background())
	s := &Store{
		opt:      opt,
		keys:     newKeys(o.Prefix),
		log:      o.Logger,
		timeout:  o.Timeout,
		local:    newLocalTier(o.LocalCacheSize),
		maxLen:   o.StreamLength,
		ctx:      ctx,
		cancel:   cancel,
		kick:     make(chan struct{}, 1),
		upc:      make(chan struct{}),
		known:    make(map[string]int64),
		queued:   make(map[string]int64),
		forgetAt: 1024,
	}
	s.wg.Add(2)
	go s.monitor()
	go s.listen()
	return s, nil
}

// Close stops the Store's background work and closes its connections.
// Revocations still queued are lost. Close is idempotent.
func (s *Store) Close() error {
	s.cancel()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	// A Validator still using the Store finds Redis unavailable.
	s.up = false
	if s.client != nil {
		s.client.Close()
		s.client = nil
	}
	return nil
}

// conn returns the client while Redis is up.
func (s *Store) conn() (rueidis.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.up {
		return nil, errUnavailable
	}
	return s.client, nil
}

// waitUp waits until Redis is up, or ctx or the Store ends.
func (s *Store) waitUp(ctx context.Context) bool {
	s.mu.Lock()
	upc := s.upc
	s.mu.Unlock()
	select {
	case <-upc:
		return true
	case <-ctx.Done():
		return false
	case <-s.ctx.Done():
		return false
	}
}

// failed records the outcome of a command: a failure to reach Redis marks
// it down, and the monitor takes over until it answers again. A reply of
// Redis's own (an error, a nil) or a deadline of the caller's does not:
// Redis is there, or merely slow.
func (s *Store) failed(err error) error {
	if err == nil || rueidis.IsRedisNil(err) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, rueidis.ErrClosing) {
		return err
	}
	if _, ok := rueidis.IsRedisErr(err); ok {
		return err
	}
	s.markDown(err)
	return err
}

// markDown records that Redis cannot be used, logging it once, and wakes
// the monitor.
func (s *Store) markDown(err error) {
	s.mu.Lock()
	if s.up {
		s.up = false
		s.upc = make(chan struct{})
	}
	if !s.down {
		s.down = true
		s.log.Warn("bearer/redis: Redis unreachable; serving from local state, revocations are queued", "error", err)
	}
	s.mu.Unlock()
	s.wake()
}

// wake makes the monitor look at the Store's state.
func (s *Store) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// monitor connects to Redis, and reconnects with backoff whenever it is
// lost; once Redis answers again it publishes what was queued and fills
// Redis again with what it may have lost.
func (s *Store) monitor() {
	defer s.wg.Done()
	backoff := 50 * time.Millisecond
	for {
		if err := s.reconnect(); err != nil {
			// Whatever the reason (a wrong password, a refused TLS
			// handshake, a Redis that is not there), it is logged once.
			s.markDown(err)
			t := time.NewTimer(backoff/2 + rand.N(backoff/2+1))
			// A cap of half a second: a Redis that returns is used
			// again, and the sign-outs made meanwhile reach every
			// replica, within it; a refused connection costs little.
			backoff = min(2*backoff, maxBackoff)
			select {
			case <-s.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		backoff = 50 * time.Millisecond
		select {
		case <-s.ctx.Done():
			return
		case <-s.kick:
		}
	}
}

// reconnect publishes what is queued while Redis is up. Otherwise it
// connects, pings, writes back the revocations known and marks Redis up.
func (s *Store) reconnect() error {
	s.mu.Lock()
	up, c := s.up, s.client
	s.mu.Unlock()
	if up {
		ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
		defer cancel()
		return s.republish(ctx, c, false)
	}
	if c == nil {
		var err error
		if c, err = rueidis.NewClient(s.opt); err != nil {
			return err
		}
		s.mu.Lock()
		s.client = c
		s.mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	if err := c.Do(ctx, c.B().Ping().Build()).Error(); err != nil {
		return err
	}
	if err := s.republish(ctx, c, true); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		// Logged before up is announced: whoever waits for it sees the
		// line already written. State changes are rare; the lock is fine.
		s.log.Info("bearer/redis: Redis reachable again")
	}
	s.down = false
	s.up = true
	close(s.upc)
	return nil
}

// maxBackoff caps the wait between two attempts to reach Redis.
const maxBackoff = 500 * time.Millisecond

// connBuffer is the size of each connection's read and write buffers.
const connBuffer = 32 << 10

// defaultLocalCacheSize is Options.LocalCacheSize's default, the core's
// default Config.CacheSize.
const defaultLocalCacheSize = 10000
