//go:build unix && !linux

package e2e

import "syscall"

// sysProcAttr puts a child in a process group of its own, so that stop
// reaches its children too.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
