package main

import (
	"maps"
	"net"
	"testing"
)

// The counts are by the local port of established sockets only: the
// header, listeners (0A), TIME_WAIT (06) and other ports are not counted.
func TestCountEstablished(t *testing.T) {
	table := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1 0000000000000000 100 0 0 10 0\n" +
		"   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 2 1 0000000000000000 20 4 30 10 -1\n" +
		"   2: 0100007F:1F90 0100007F:C351 01 00000000:00000000 00:00000000 00000000  1000        0 3 1 0000000000000000 20 4 30 10 -1\n" +
		"   3: 0100007F:1F90 0100007F:C352 06 00000000:00000000 03:00000CC5 00000000     0        0 0 3 0000000000000000\n" +
		"   4: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 4 1 0000000000000000 20 4 30 10 -1\n" +
		"  10: 0100007F:0050 0100007F:C353 01 00000000:00000000 00:00000000 00000000  1000        0 5 1 0000000000000000 20 4 30 10 -1"
	got := map[int]int{}
	countEstablished([]byte(table), got)
	if want := map[int]int{0x1F90: 2, 0xC350: 1, 80: 1}; !maps.Equal(got, want) {
		t.Errorf("counts %v, want %v", got, want)
	}
}

// On this machine's own table: a connection accepted on a loopback
// listener is counted on its port.
func TestConnCounterCountsALiveConnection(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	var c connCounter
	before := c.established()[port]
	conn, err := net.Dial("tcp4", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	accepted, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer accepted.Close()
	if n := c.established()[port]; n != before+1 {
		t.Errorf("%d established on port %d, want %d", n, port, before+1)
	}
}
