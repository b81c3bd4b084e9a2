//go:build !unix

package notify

import "os/exec"

// newProcessGroup: Kannel runs on Unix only; elsewhere the process is
// stopped on its own.
func newProcessGroup(*exec.Cmd) {}

func stopGroup(cmd *exec.Cmd, _ bool) { _ = cmd.Process.Kill() }
