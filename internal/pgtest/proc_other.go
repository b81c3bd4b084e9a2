//go:build !linux

package pgtest

import "syscall"

// procAttr: elsewhere than Linux the programs run as the test's user (root
// is refused by initdb) and the cleanup stops them; there is no Pdeathsig.
func procAttr(bool) *syscall.SysProcAttr { return nil }
