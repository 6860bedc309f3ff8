package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/accesstoken/bearer/internal/conformance/apicontract"
)

var tokenLine = regexp.MustCompile(`curl -i -H "Authorization: Bearer ([^"]+)" http://\S+/values`)

// startAPI runs the program with args until stop is called or the test
// ends; it returns its base URL, the two tokens it prints (a JWT and a
// reference token) and what it prints.
func startAPI(t *testing.T, args ...string) (base, jwt, ref string, output func() string, stop func()) {
	t.Helper()
	base, output, stop = apicontract.Start(t, run, args...)
	m := tokenLine.FindAllStringSubmatch(output(), -1)
	if len(m) != 2 {
		t.Fatalf("want a JWT and a reference token in:\n%s", output())
	}
	return base, m[0][1], m[1][1], output, stop
}

// requests sends what the metrics are checked against: a JWT three times
// (validated, then twice from the cache), a reference token twice
// (introspected, then from the cache), a request without a token and one
// with a garbled JWT.
func requests(t *testing.T, base, jwt, ref string) {
	t.Helper()
	for _, token := range []string{jwt, jwt, jwt, ref, ref, "", "a.b.c"} {
		req, _ := http.NewRequest("GET", base+"/values", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// want is the validations requests makes, by attributes.
var want = map[string]int{
	"bearer.result=success,bearer.scheme=bearer,bearer.source=local,bearer.token.format=jwt":                            1,
	"bearer.result=success,bearer.scheme=bearer,bearer.source=cache,bearer.token.format=jwt":                            2,
	"bearer.result=success,bearer.scheme=bearer,bearer.source=introspection,bearer.token.format=opaque":                 1,
	"bearer.result=success,bearer.scheme=bearer,bearer.source=cache,bearer.token.format=opaque":                         1,
	"bearer.result=no_token,bearer.scheme=bearer,error.type=no_token":                                                   1,
	"bearer.result=invalid_token,bearer.scheme=bearer,bearer.source=local,bearer.token.format=jwt,error.type=malformed": 1,
}

func TestMetricsPrometheus(t *testing.T) {
	base, jwt, ref, _, _ := startAPI(t, "-metrics", "prometheus")
	requests(t, base, jwt, ref)
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	// Lines such as
	// bearer_validation_duration_seconds_count{bearer_result="success",…,otel_scope_name="…"} 2
	got := map[string]int{}
	gauges := map[string]float64{}
	process := map[string]float64{} // samples without labels: the process's health
	sample := regexp.MustCompile(`^(\w+)\{(.*)\} (\S+)$`)
	label := regexp.MustCompile(`(\w+)="([^"]*)"`)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 {
			if v, err := strconv.ParseFloat(f[1], 64); err == nil {
				process[f[0]] = v
			}
		}
		m := sample.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		value, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("%q: %v", sc.Text(), err)
		}
		var attrs []string
		for _, l := range label.FindAllStringSubmatch(m[2], -1) {
			if !strings.HasPrefix(l[1], "otel_scope_") {
				// Prometheus spells the attributes' dots as underscores.
				k := strings.NewReplacer("bearer_token_format", "bearer.token.format", "bearer_", "bearer.", "error_type", "error.type").Replace(l[1])
				attrs = append(attrs, k+"="+l[2])
			}
		}
		switch m[1] {
		case "bearer_validation_duration_seconds_count":
			got[strings.Join(attrs, ",")] = int(value)
		case "bearer_ready", "bearer_jwks_keys", "bearer_cache_entries", "bearer_jwks_age_seconds":
			gauges[m[1]] = value
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("validations{%s} = %d, want %d", k, got[k], n)
		}
	}
	for k, n := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("validations{%s} = %d, not expected", k, n)
		}
	}
	if gauges["bearer_ready"] != 1 || gauges["bearer_jwks_keys"] < 1 || gauges["bearer_cache_entries"] != 1 || gauges["bearer_jwks_age_seconds"] <= 0 {
		t.Errorf("gauges %v, want ready, keys, one cached JWT and the key set's age", gauges)
	}
	// What the soak watches for leaks.
	for _, name := range []string{"go_goroutines", "go_gc_heap_live_bytes", "process_resident_memory_bytes", "process_open_fds"} {
		if process[name] <= 0 {
			t.Errorf("%s = %v, want > 0", name, process[name])
		}
	}
}

func TestMetricsStdout(t *testing.T) {
	base, jwt, ref, output, stop := startAPI(t, "-metrics", "stdout", "-metrics-interval", "1h")
	requests(t, base, jwt, ref)
	// Shutting down exports what was recorded.
	stop()
	printed := output()
	i := strings.Index(printed, "\n{")
	if i < 0 {
		t.Fatalf("no metrics printed:\n%s", printed)
	}
	var export struct {
		ScopeMetrics []struct {
			Metrics []struct {
				Name string
				Data struct {
					DataPoints []struct {
						Attributes []struct {
							Key   string
							Value struct{ Value any }
						}
						Count int
					}
				}
			}
		}
	}
	if err := json.NewDecoder(strings.NewReader(printed[i+1:])).Decode(&export); err != nil {
		t.Fatalf("%v in:\n%s", err, printed[i+1:])
	}
	got := map[string]int{}
	for _, sm := range export.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "bearer.validation.duration" {
				continue
			}
			for _, p := range m.Data.DataPoints {
				var attrs []string
				for _, a := range p.Attributes {
					attrs = append(attrs, a.Key+"="+a.Value.Value.(string))
				}
				got[strings.Join(attrs, ",")] = p.Count
			}
		}
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("validations{%s} = %d, want %d", k, got[k], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("validations %v, want %v", got, want)
	}
}

func TestReadyz(t *testing.T) {
	base, _, _, _, _ := startAPI(t)
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Ready             bool
		Keys              int
		RevocationsSynced bool `json:"revocations_synced"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != http.StatusOK || !st.Ready || st.Keys == 0 || !st.RevocationsSynced {
		t.Errorf("GET /readyz: %s %+v %v, want 200, ready, with keys and the revocations", resp.Status, st, err)
	}
}

func TestBadMetricsFlag(t *testing.T) {
	if err := run(t.Context(), []string{"-metrics", "statsd"}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "stdout or prometheus") {
		t.Errorf("run -metrics statsd: %v", err)
	}
}
