package redis

import (
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// proxy is a TCP proxy on loopback in front of a Redis, which a test can
// cut and mend to disconnect one replica while the others stay connected.
type proxy struct {
	t      testing.TB
	l      net.Listener
	target string

	// writes counts the writes the clients made: what a pipeline sends
	// at once is one, or a few.
	writes atomic.Int64

	mu    sync.Mutex
	cut   bool
	conns []net.Conn
	wg    sync.WaitGroup
}

func startProxy(t testing.TB, target string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, l: l, target: target}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		l.Close()
		p.setCut(true)
		p.wg.Wait()
	})
	return p
}

// URL is a redis:// URL to the proxy.
func (p *proxy) URL() string { return "redis://" + p.l.Addr().String() + "/0" }

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns = append(p.conns, c, up)
		p.wg.Add(2)
		p.mu.Unlock()
		go p.copy(up, c, &p.writes)
		go p.copy(c, up, nil)
	}
}

// copy copies src to dst until either fails, counting src's reads.
func (p *proxy) copy(dst, src net.Conn, reads *atomic.Int64) {
	defer p.wg.Done()
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if reads != nil {
				reads.Add(1)
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
}

// setCut closes every connection and refuses new ones, or lets them
// through again.
func (p *proxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}

// redisAddr is the host:port of a redis:// URL.
func redisAddr(url string) string {
	return strings.TrimSuffix(strings.TrimPrefix(url, "redis://"), "/0")
}
