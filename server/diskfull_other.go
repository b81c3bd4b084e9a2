//go:build !unix

package server

import "syscall"

// errQuota is a full disk quota; this platform has no EDQUOT.
var errQuota error = syscall.ENOSPC
