package e2e

import "syscall"

// sysProcAttr puts a child in a process group of its own, so that stop
// reaches its children too (npm, a browser), and has the kernel kill it if
// the test binary dies without cleaning up.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
