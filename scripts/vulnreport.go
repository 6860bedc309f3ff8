//go:build ignore

// Command vulnreport reads the JSON of govulncheck (-format json) on
// standard input and says, one line each, which vulnerabilities affect a
// module and which the Go toolchain that ran the scan. It exits 1 if a
// module is affected: the fix is a newer version of it in go.mod. The
// standard library's are the toolchain's, not the code's: it prints them
// as a warning (the fix is a newer Go) and does not fail for them.
//
//	govulncheck -format json ./... | go run scripts/vulnreport.go MODULE
//
// In symbol mode (govulncheck's default) a vulnerability counts when the
// code calls it; in module mode, when a vulnerable version is required.
// The few in accepted are printed, with the reason, and do not fail.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// accepted are vulnerabilities of a module with no fixed version, that the
// code here does not reach; each with the reason, printed at every scan.
// Remove an entry as soon as a fixed version exists.
var accepted = map[string]string{
	"github.com/labstack/echo/v4 GO-2026-6872": "no fixed echo v4 (v5.1.0 fixes it); it is echo's RealIP trusting X-Forwarded-For, which adapters/echo and examples/echo never call",
	"github.com/labstack/echo/v4 GO-2026-6875": "no fixed echo v4 (v5.4.0 fixes it); it is echo's proxy middleware forwarding X-Real-IP, which adapters/echo and examples/echo do not use",
}

type message struct {
	Config *struct {
		ScanLevel string `json:"scan_level"`
		DB        string `json:"db"`
	} `json:"config"`
	Finding *struct {
		OSV          string `json:"osv"`
		FixedVersion string `json:"fixed_version"`
		Trace        []struct {
			Module   string `json:"module"`
			Version  string `json:"version"`
			Function string `json:"function"`
		} `json:"trace"`
	} `json:"finding"`
}

func main() {
	name := "module"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	level := "symbol"
	affected := map[string]string{} // "module@version" → what to do
	seen := map[string]bool{}       // accepted ones already printed
	dec := json.NewDecoder(os.Stdin)
	for {
		var m message
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "vulnreport: %s: reading govulncheck's output: %v\n", name, err)
			os.Exit(2)
		}
		if m.Config != nil && m.Config.ScanLevel != "" {
			level = m.Config.ScanLevel
		}
		f := m.Finding
		if f == nil || len(f.Trace) == 0 || (level == "symbol" && f.Trace[0].Function == "") {
			continue
		}
		t := f.Trace[0]
		if why, ok := accepted[t.Module+" "+f.OSV]; ok {
			if !seen[f.OSV] {
				fmt.Printf("%s: accepted: %s in %s@%s: %s\n", name, f.OSV, t.Module, t.Version, why)
				seen[f.OSV] = true
			}
			continue
		}
		key := t.Module + "@" + t.Version
		if prev := affected[key]; !strings.Contains(prev, f.OSV) {
			affected[key] = strings.TrimPrefix(prev+", "+f.OSV+" (fixed in "+cmpOr(f.FixedVersion, "no version yet")+")", ", ")
		}
	}
	keys := make([]string, 0, len(affected))
	for k := range affected {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	failed := false
	for _, k := range keys {
		if strings.HasPrefix(k, "stdlib@") {
			fmt.Printf("%s: warning: the Go toolchain (%s) has %s: upgrade Go\n", name, strings.TrimPrefix(k, "stdlib@"), affected[k])
			continue
		}
		failed = true
		fmt.Printf("%s: %s: %s\n", name, k, affected[k])
	}
	if failed {
		os.Exit(1)
	}
	fmt.Printf("%s: no vulnerable module (%s scan)\n", name, level)
}

func cmpOr(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
