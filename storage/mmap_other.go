//go:build !unix

package storage

import (
	"errors"
	"os"
)

// mapFile is not used here: checkFilePages reads with ReadAt.
func mapFile(*os.File, int64) ([]byte, func(), error) {
	return nil, nil, errors.New("no mmap")
}
