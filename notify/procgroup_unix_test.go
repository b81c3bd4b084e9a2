//go:build unix

package notify

import (
	"os/exec"
	"syscall"
)

// newProcessGroup starts cmd in a process group of its own, so that the
// programs it starts (Kannel's boxes) are stopped with it.
func newProcessGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// stopGroup sends SIGTERM (or SIGKILL when kill) to cmd's process group.
func stopGroup(cmd *exec.Cmd, kill bool) {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
}
