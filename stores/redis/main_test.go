package redis

import (
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain fails the tests if a goroutine outlives them. rueidis, when a
// connection attempt fails, schedules a refresh of a cluster's topology
// after a random delay of up to a few seconds, which Close does not
// cancel: those are waited for, a few seconds at most.
func TestMain(m *testing.M) {
	code := m.Run()
	deadline := time.Now().Add(5 * time.Second)
	for err := goleak.Find(); code == 0 && err != nil; err = goleak.Find() {
		if time.Now().After(deadline) {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
		time.Sleep(100 * time.Millisecond)
	}
	os.Exit(code)
}
