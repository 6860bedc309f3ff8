// Package loopback gives the tests of every module, and the soak, ports
// for servers they start later: a child process, or a server stopped and
// started again on the same port.
package loopback

import (
	"fmt"
	"math/rand/v2"
	"net"
)

// The ports Port picks from lie below the ephemeral ports (32768 and up
// on Linux, 49152 on other systems). A free ephemeral port can become the
// local end of any connection the machine opens, and a server started on
// it later then fails with "address already in use"; CI saw that happen.
const (
	lowest = 20000
	count  = 12000
)

// Port returns a loopback TCP port that nothing listened on a moment ago.
func Port() (int, error) {
	for range 100 {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", lowest+rand.IntN(count)))
		if err != nil {
			continue
		}
		port := l.Addr().(*net.TCPAddr).Port
		if err := l.Close(); err != nil {
			return 0, err
		}
		return port, nil
	}
	return 0, fmt.Errorf("loopback: no free port between %d and %d", lowest, lowest+count)
}

// Addr is Port as a "127.0.0.1:port" address.
func Addr() (string, error) {
	port, err := Port()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("127.0.0.1:%d", port), nil
}
