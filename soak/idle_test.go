package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
)

// niceOf is the niceness of thread tid, as the kernel reports it, or
// the error reading it.
func niceOf(tid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/stat", tid))
	if err != nil {
		return err.Error()
	}
	// Fields after the command's closing parenthesis; nice is the 19th
	// field of the line, the 17th of these.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return f[16]
}

// A rotation runs at nice 19, on a thread that no other goroutine gets
// afterwards: the caller's priority is untouched.
func TestIdleRunsAtTheLowestPriority(t *testing.T) {
	before := niceOf(syscall.Gettid())
	var in string
	idle(func() { in = niceOf(syscall.Gettid()) })
	if in != "19" {
		t.Errorf("f ran at nice %s, want 19", in)
	}
	if after := niceOf(syscall.Gettid()); after != before {
		t.Errorf("the caller's nice went from %s to %s", before, after)
	}
}
