package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCheckProfile(t *testing.T) {
	for _, c := range []struct {
		profile, paired, scenario string
		duration                  time.Duration
		ok                        bool
	}{
		{"", "bare,bearer-warm", "unique", time.Millisecond, true},
		{"dir", "", "unique", time.Second, true},
		{"dir", "bare,bearer-warm", "cycle", 8 * time.Second, true},
		{"dir", "bare,bearer-warm", "unique", 8 * time.Second, false},
		{"dir", "", "unique", 500 * time.Millisecond, false},
	} {
		if err := checkProfile(c.profile, c.paired, c.scenario, c.duration); (err == nil) != c.ok {
			t.Errorf("checkProfile(%q, %q, %q, %v) = %v", c.profile, c.paired, c.scenario, c.duration, err)
		}
	}
}

// TestProfileWindow checks that a server's profile is written, and that a
// server without one is an error rather than an empty file.
func TestProfileWindow(t *testing.T) {
	srv := httptest.NewServer(newMux(ok, nil))
	defer srv.Close()
	d := &driver{duration: time.Second, profile: t.TempDir()}
	if err := d.profileWindow(strings.TrimPrefix(srv.URL, "http://"), "bare-one"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(d.profile, "bare-one.pprof")); err != nil || fi.Size() == 0 {
		t.Errorf("profile: %v, %v", fi, err)
	}

	none := httptest.NewServer(http.NotFoundHandler())
	defer none.Close()
	if err := d.profileWindow(strings.TrimPrefix(none.URL, "http://"), "none"); err == nil {
		t.Error("a server without /debug/pprof/profile gave no error")
	}
	if _, err := os.Stat(filepath.Join(d.profile, "none.pprof")); !os.IsNotExist(err) {
		t.Errorf("a failed profile left a file: %v", err)
	}
}
