// Command table turns `go test -bench` output (from standard input) into
// the markdown tables of BENCHMARKS.md: for every group of benchmarks
// (the name up to "/lib="), the median ns/op, B/op and allocs/op of each
// contender and the ratio of its median ns/op to the group's baseline,
// the first contender of the group (lib=bare, or lib=post for
// introspection). benchstat gives the confidence intervals and
// significance; this gives the one-screen summary.
//
//	go test -run '^$' -bench . -count 10 | go run ./cmd/table
package main

import (
	"bufio"
	"fmt"
	"log"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/accesstoken/bearer/bench"
)

// procs is the -GOMAXPROCS suffix go test adds to benchmark names.
var procs = regexp.MustCompile(`-\d+$`)

type sample struct{ ns, bytes, allocs []float64 }

func main() {
	var groups []string
	libs := make(map[string][]string)
	samples := make(map[[2]string]*sample)

	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := procs.ReplaceAllString(f[0], "")
		group, lib, ok := strings.Cut(name, "/lib=")
		if !ok {
			continue
		}
		key := [2]string{group, lib}
		s := samples[key]
		if s == nil {
			s = &sample{}
			samples[key] = s
			if _, seen := libs[group]; !seen {
				groups = append(groups, group)
			}
			libs[group] = append(libs[group], lib)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				s.ns = append(s.ns, v)
			case "B/op":
				s.bytes = append(s.bytes, v)
			case "allocs/op":
				s.allocs = append(s.allocs, v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		log.Fatal(err)
	}
	for _, g := range groups {
		base := samples[[2]string{g, libs[g][0]}]
		fmt.Printf("%s (median of %d runs; ratio = ns/op ÷ %s's)\n\n", strings.TrimPrefix(g, "Benchmark"), len(base.ns), libs[g][0])
		fmt.Println("| contender | ns/op | B/op | allocs/op | ratio |")
		fmt.Println("|---|---:|---:|---:|---:|")
		for _, lib := range libs[g] {
			s := samples[[2]string{g, lib}]
			fmt.Printf("| %s | %s | %.0f | %.0f | %.3f |\n", lib, ns(bench.Quantile(s.ns, 0.5)), bench.Quantile(s.bytes, 0.5), bench.Quantile(s.allocs, 0.5), bench.Quantile(s.ns, 0.5)/bench.Quantile(base.ns, 0.5))
		}
		fmt.Println()
	}
}

// ns formats a duration in ns/op with a thousands separator.
func ns(v float64) string {
	if v < 1000 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	s := strconv.FormatFloat(v, 'f', 0, 64)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + " " + s[i:]
	}
	return s
}
