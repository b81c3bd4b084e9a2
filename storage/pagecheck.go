package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// checkPages reads the page tree of a bbolt file from disk, without bbolt,
// before bbolt is let near it. bbolt trusts its pages: a damaged branch
// that points back at an ancestor makes a cursor descend forever (until
// memory runs out), a damaged length makes it read past the mapped file
// (a fault), and its own check runs on a goroutine where either kills
// the process. Here every page is read with ReadAt into a bounded buffer
// and checked: its id, its kind, every element inside the page, keys in
// order, every child a page of the file referenced once, nested and
// inline buckets alike. The layout is bbolt's (internal/common, v1.x):
//
//	page      id u64, flags u16, count u16, overflow u32, then elements
//	branch    pos u32, ksize u32, pgid u64 (key at element + pos)
//	leaf      flags u32, pos u32, ksize u32, vsize u32 (value after key)
//	bucket    a leaf value with flag 1: root u64, sequence u64, and the
//	          inline page after it when root is 0
//
// rootPgid, highWater and pageSize come from the meta page bbolt chose
// (its checksum is bbolt's to check).
func checkPages(r io.ReaderAt, fileSize int64, pageSize int, rootPgid, highWater uint64) error {
	return checkPageTree(func(off, n int64) ([]byte, error) {
		b := make([]byte, n)
		_, err := r.ReadAt(b, off)
		return b, err
	}, fileSize, pageSize, rootPgid, highWater)
}

// checkPageTree is checkPages over read, which returns the n bytes of the
// file at off (a copy, or a slice of a read-only mapping; off+n is within
// the file).
func checkPageTree(read func(off, n int64) ([]byte, error), fileSize int64, pageSize int, rootPgid, highWater uint64) error {
	const (
		hdrSize        = 16
		elemSize       = 16
		branchFlag     = 0x01
		leafFlag       = 0x02
		bucketLeafFlag = 0x01
		maxDepth       = 64
	)
	seen := map[uint64]bool{}
	var visit func(id uint64, depth int, minClosed, maxOpen []byte) ([]byte, error)
	var leaf func(where string, p []byte, count int, minClosed, maxOpen []byte) ([]byte, error)
	// inOrder is bbolt's verifyKeyOrder: the first key at least the
	// lower bound, each next one greater, all below the upper bound.
	inOrder := func(where string, i int, key, prev, maxOpen []byte) error {
		if i == 0 && prev != nil && bytes.Compare(prev, key) > 0 {
			return fmt.Errorf("%s: first key below its ancestor's", where)
		}
		if i > 0 && bytes.Compare(prev, key) >= 0 {
			return fmt.Errorf("%s: keys out of order", where)
		}
		if maxOpen != nil && bytes.Compare(key, maxOpen) >= 0 {
			return fmt.Errorf("%s: key past its ancestor's next key", where)
		}
		return nil
	}

	elems := func(where string, p []byte, count int) error {
		if hdrSize+count*elemSize > len(p) {
			return fmt.Errorf("%s: %d elements do not fit the page", where, count)
		}
		return nil
	}
	keyAt := func(where string, p []byte, i, pos, ksize, vsize int) ([]byte, []byte, error) {
		start := hdrSize + i*elemSize + pos
		if pos < 0 || ksize < 0 || vsize < 0 || start < 0 || start+ksize+vsize > len(p) || start+ksize+vsize < start {
			return nil, nil, fmt.Errorf("%s: element %d reaches past the page", where, i)
		}
		return p[start : start+ksize], p[start+ksize : start+ksize+vsize], nil
	}
	leaf = func(where string, p []byte, count int, minClosed, maxOpen []byte) ([]byte, error) {
		if err := elems(where, p, count); err != nil {
			return nil, err
		}
		prev := minClosed
		for i := 0; i < count; i++ {
			e := p[hdrSize+i*elemSize:]
			flags := binary.LittleEndian.Uint32(e[0:])
			k, v, err := keyAt(where, p, i, int(binary.LittleEndian.Uint32(e[4:])), int(binary.LittleEndian.Uint32(e[8:])), int(binary.LittleEndian.Uint32(e[12:])))
			if err != nil {
				return nil, err
			}
			if err := inOrder(where, i, k, prev, maxOpen); err != nil {
				return nil, err
			}
			prev = k
			switch flags {
			case 0:
			case bucketLeafFlag:
				if len(v) < 16 {
					return nil, fmt.Errorf("%s: bucket header too short", where)
				}
				root := binary.LittleEndian.Uint64(v)
				if root != 0 {
					if _, err := visit(root, 0, nil, nil); err != nil {
						return nil, err
					}
					continue
				}
				inline := v[16:]
				if len(inline) < hdrSize {
					return nil, fmt.Errorf("%s: inline bucket too short", where)
				}
				if f := binary.LittleEndian.Uint16(inline[8:]); f != leafFlag {
					return nil, fmt.Errorf("%s: inline bucket page of kind %#x", where, f)
				}
				if _, err := leaf(where+" (inline bucket)", inline, int(binary.LittleEndian.Uint16(inline[10:])), nil, nil); err != nil {
					return nil, err
				}
			default:
				return nil, fmt.Errorf("%s: element %d has flags %#x", where, i, flags)
			}
		}
		if count == 0 {
			return nil, nil
		}
		return prev, nil
	}
	visit = func(id uint64, depth int, minClosed, maxOpen []byte) ([]byte, error) {
		where := fmt.Sprintf("page %d", id)
		switch {
		case depth > maxDepth:
			return nil, fmt.Errorf("%s: tree deeper than %d", where, maxDepth)
		case id < 2 || id >= highWater:
			return nil, fmt.Errorf("%s: not a data page of the file (high water %d)", where, highWater)
		case seen[id]:
			return nil, fmt.Errorf("%s: referenced twice", where)
		}
		seen[id] = true
		off := int64(id) * int64(pageSize)
		if off+int64(pageSize) > fileSize {
			return nil, fmt.Errorf("%s: past the end of the file", where)
		}
		p, err := read(off, int64(pageSize))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		hdr := p[:hdrSize]
		if got := binary.LittleEndian.Uint64(hdr); got != id {
			return nil, fmt.Errorf("%s: calls itself page %d", where, got)
		}
		overflow := uint64(binary.LittleEndian.Uint32(hdr[12:]))
		size := int64(overflow+1) * int64(pageSize)
		if id+overflow >= highWater || off+size > fileSize {
			return nil, fmt.Errorf("%s: its %d overflow pages reach past the file", where, overflow)
		}
		for o := uint64(1); o <= overflow; o++ {
			if seen[id+o] {
				return nil, fmt.Errorf("page %d: referenced twice", id+o)
			}
			seen[id+o] = true
		}
		if overflow > 0 {
			if p, err = read(off, size); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
		}
		count := int(binary.LittleEndian.Uint16(p[10:]))
		switch flags := binary.LittleEndian.Uint16(p[8:]); flags {
		case leafFlag:
			return leaf(where, p, count, minClosed, maxOpen)
		case branchFlag:
			if err := elems(where, p, count); err != nil {
				return nil, err
			}
			if count == 0 {
				return nil, fmt.Errorf("%s: empty branch", where)
			}
			running, maxInSubtree := minClosed, []byte(nil)
			keys := make([][]byte, count)
			for i := 0; i < count; i++ {
				e := p[hdrSize+i*elemSize:]
				k, _, err := keyAt(where, p, i, int(binary.LittleEndian.Uint32(e[0:])), int(binary.LittleEndian.Uint32(e[4:])), 0)
				if err != nil {
					return nil, err
				}
				keys[i] = k
			}
			for i := 0; i < count; i++ {
				e := p[hdrSize+i*elemSize:]
				if err := inOrder(where, i, keys[i], running, maxOpen); err != nil {
					return nil, err
				}
				upper := maxOpen
				if i < count-1 {
					upper = keys[i+1]
				}
				mk, err := visit(binary.LittleEndian.Uint64(e[8:]), depth+1, keys[i], upper)
				if err != nil {
					return nil, err
				}
				maxInSubtree, running = mk, mk
				if running == nil {
					running = keys[i]
				}
			}
			return maxInSubtree, nil
		default:
			return nil, fmt.Errorf("%s: of kind %#x where a branch or leaf belongs", where, flags)
		}
	}
	_, err := visit(rootPgid, 0, nil, nil)
	return err
}

// checkFilePages runs checkPages on the file at path with bbolt's page
// size, starting at the root of the newest valid meta page.
func checkFilePages(path string, pageSize int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	var best *[3]uint64 // root, high water, txid
	for i := int64(0); i < 2; i++ {
		m := make([]byte, 16+64)
		if _, err := f.ReadAt(m, i*int64(pageSize)); err != nil {
			continue
		}
		meta := m[16:]
		h := fnv.New64a()
		h.Write(meta[:56])
		if binary.LittleEndian.Uint32(meta[0:]) != 0xED0CDAED || h.Sum64() != binary.LittleEndian.Uint64(meta[56:]) {
			continue
		}
		cand := [3]uint64{binary.LittleEndian.Uint64(meta[16:]), binary.LittleEndian.Uint64(meta[40:]), binary.LittleEndian.Uint64(meta[48:])}
		if best == nil || cand[2] > best[2] {
			best = &cand
		}
	}
	if best == nil {
		return fmt.Errorf("no valid meta page")
	}
	if data, unmap, err := mapFile(f, fi.Size()); err == nil {
		defer unmap()
		return checkPageTree(func(off, n int64) ([]byte, error) { return data[off : off+n : off+n], nil },
			fi.Size(), pageSize, best[0], best[1])
	}
	return checkPages(f, fi.Size(), pageSize, best[0], best[1])
}
