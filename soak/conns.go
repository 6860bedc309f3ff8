package main

import (
	"bytes"
	"os"
	"strconv"
)

// connCounter counts established TCP connections by local port, from
// /proc/net/tcp: every IPv4 TCP socket of the network namespace, which
// the replicas share, so it is read once a second for all of them. The
// file is the kernel's text for thousands of sockets after a fault (and
// the TIME_WAIT ones): read each second per replica into fresh memory,
// it was a seventh of the driver's CPU and two fifths of its garbage,
// whose collections time every request under way.
type connCounter struct {
	buf    bytes.Buffer
	byPort map[int]int
}

// established returns the established connections by local port; the
// map is the counter's, valid until the next call.
func (c *connCounter) established() map[int]int {
	if c.byPort == nil {
		c.byPort = map[int]int{}
	}
	clear(c.byPort)
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return c.byPort
	}
	c.buf.Reset()
	_, err = c.buf.ReadFrom(f)
	f.Close()
	if err != nil {
		return c.byPort
	}
	countEstablished(c.buf.Bytes(), c.byPort)
	return c.byPort
}

// countEstablished adds to byPort the sockets of table, in /proc/net/tcp's
// format, in state 01 (established), by the port of their local address:
//
//	sl  local_address rem_address   st ...
//	 0: 0100007F:1F90 0100007F:C350 01 ...
func countEstablished(table []byte, byPort map[int]int) {
	for len(table) > 0 {
		line := table
		if i := bytes.IndexByte(table, '\n'); i >= 0 {
			line, table = table[:i], table[i+1:]
		} else {
			table = nil
		}
		var f [4][]byte
		n := 0
		for rest := line; n < len(f); n++ {
			rest = bytes.TrimLeft(rest, " ")
			end := bytes.IndexByte(rest, ' ')
			if end < 0 {
				end = len(rest)
			}
			if end == 0 {
				break
			}
			f[n], rest = rest[:end], rest[end:]
		}
		if n < len(f) || string(f[3]) != "01" {
			continue
		}
		_, port, ok := bytes.Cut(f[1], []byte(":"))
		if p, err := strconv.ParseUint(string(port), 16, 16); ok && err == nil {
			byPort[int(p)]++
		}
	}
}
