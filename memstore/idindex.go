package memstore

import (
	"bytes"
	"iter"
	"slices"

	"github.com/google/uuid"
)

// idChunk is how many IDs one chunk of an idIndex holds (16 KiB).
const idChunk = 1024

// idIndex keeps IDs in ascending byte order for cursor paging. IDs that
// arrive in order (UUIDv7, the engine's default) are appended to the last
// chunk; others wait in tail and are merged in by the next listing.
//
// The IDs live in fixed-size chunks rather than one growing slice, so a
// growing index never copies what it holds (a single slice growing by
// 1.25× allocates about five times its final size over its life).
type idIndex struct {
	chunks [][]uuid.UUID // sorted across chunks; all but the last full
	tail   []uuid.UUID   // out-of-order arrivals, unsorted
}

func compareIDs(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }

// last returns the greatest ID in the chunks.
func (x *idIndex) last() (uuid.UUID, bool) {
	if len(x.chunks) == 0 {
		return uuid.Nil, false
	}
	c := x.chunks[len(x.chunks)-1]
	return c[len(c)-1], true
}

// beyond reports whether id is greater than every ID in the index, so
// certainly not in it: always the case for the next ID from one source of
// increasing IDs (UUIDv7), which then needs no map probe to be known new.
func (x *idIndex) beyond(id uuid.UUID) bool {
	last, ok := x.last()
	return len(x.tail) == 0 && (!ok || compareIDs(last, id) < 0)
}

func (x *idIndex) add(id uuid.UUID) {
	if last, ok := x.last(); len(x.tail) > 0 || (ok && compareIDs(last, id) >= 0) {
		x.tail = append(x.tail, id)
		return
	}
	x.push(id)
}

// push appends an ID greater than every ID in the chunks.
func (x *idIndex) push(id uuid.UUID) {
	n := len(x.chunks)
	if n == 0 || len(x.chunks[n-1]) == idChunk {
		x.chunks = append(x.chunks, make([]uuid.UUID, 0, idChunk))
		n++
	}
	x.chunks[n-1] = append(x.chunks[n-1], id)
}

// merge sorts the tail into the chunks: O(N + m log m) for m IDs in the
// tail, and only when some arrived out of order.
func (x *idIndex) merge() {
	if len(x.tail) == 0 {
		return
	}
	slices.SortFunc(x.tail, compareIDs)
	old, tail := x.chunks, x.tail
	x.chunks, x.tail = nil, nil
	var i, j int // chunk and position in it
	for _, id := range tail {
		for ; i < len(old); i, j = i+1, 0 {
			c := old[i]
			for ; j < len(c) && compareIDs(c[j], id) < 0; j++ {
				x.push(c[j])
			}
			if j < len(c) {
				break
			}
		}
		x.push(id)
	}
	for ; i < len(old); i, j = i+1, 0 {
		for _, id := range old[i][j:] {
			x.push(id)
		}
	}
}

// after merges the tail in and yields the IDs after cursor in ascending
// order. The index must not change while the sequence is in use.
func (x *idIndex) after(cursor uuid.UUID) iter.Seq[uuid.UUID] {
	x.merge()
	// The first chunk whose last ID is after the cursor, then the first
	// ID after the cursor in it.
	ci, _ := slices.BinarySearchFunc(x.chunks, cursor, func(c []uuid.UUID, id uuid.UUID) int {
		if compareIDs(c[len(c)-1], id) <= 0 {
			return -1
		}
		return 1
	})
	return func(yield func(uuid.UUID) bool) {
		for i := ci; i < len(x.chunks); i++ {
			c := x.chunks[i]
			j := 0
			if i == ci {
				j, _ = slices.BinarySearchFunc(c, cursor, func(a, b uuid.UUID) int {
					if compareIDs(a, b) <= 0 {
						return -1
					}
					return 1
				})
			}
			for _, id := range c[j:] {
				if !yield(id) {
					return
				}
			}
		}
	}
}
