//go:build unix

package storage

import (
	"os"
	"syscall"
)

// mapFile maps size bytes of f read-only (checkFilePages reads every page
// without a system call each).
func mapFile(f *os.File, size int64) ([]byte, func(), error) {
	if size == 0 || int64(int(size)) != size {
		return nil, nil, syscall.EINVAL
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return data, func() { _ = syscall.Munmap(data) }, nil
}
