package bearer_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any goroutine is left when its tests are
// done: every Validator, Introspector and test authority is closed by
// then, and none may leave work behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
