package signals_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any goroutine is left when its tests are
// done: every receiver, validator, server and transmitter is closed by
// then.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
