package pgtest

import "syscall"

// procAttr runs a PostgreSQL program as nobody when asked (initdb and
// postgres refuse root) and kills it when the test binary dies.
func procAttr(nobody bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if nobody {
		a.Credential = &syscall.Credential{Uid: 65534, Gid: 65534}
	}
	return a
}
