//go:build unix

package server

import "syscall"

// errQuota is a full disk quota (EDQUOT), where the platform has one.
var errQuota error = syscall.EDQUOT
