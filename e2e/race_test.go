//go:build race

package e2e

// raceEnabled: the tests run with -race, so the Go programs they build
// (examples/api) are built with it too.
const raceEnabled = true
