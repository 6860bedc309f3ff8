package main

import (
	"testing"

	"github.com/accesstoken/bearer/internal/conformance/apicontract"
)

func TestContract(t *testing.T) { apicontract.Run(t, run) }
