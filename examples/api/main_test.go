package main

import (
	"testing"

	"github.com/accesstoken/bearer/internal/conformance/apicontract"
)

// TestContract is the README's promise: without -authority the program
// prints curl lines that work, and it keeps the contract other programs
// drive it by.
func TestContract(t *testing.T) { apicontract.Run(t, run) }
