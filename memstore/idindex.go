package memstore

import (
	"encoding/binary"
	"iter"
	"slices"

	"github.com/google/uuid"
)

// idChunk is how many entries one chunk of an idIndex holds.
const idChunk = 1024

// idIndex maps IDs to values and keeps them in ascending byte order, for
// cursor paging and for lookups.
//
// It is built for IDs that mostly arrive in increasing order (UUIDv7, the
// engine's default): such an ID is appended to the last of a list of
// fixed-size sorted chunks, so an insert touches memory that is already in
// cache, where a hash map of millions of entries would touch a random
// cache line (and grow by rehashing). A lookup is a binary search over the
// chunks and then within one; an ID in the last chunk, where the invoices
// being updated usually are, is searched for from the chunk's end, and the
// newest ID is answered by the comparison that tells an ID beyond the
// index. An ID that arrives out of order waits in a
// map (late) until the next listing merges it in: with random IDs the
// index degrades to that map plus a sort per listing that follows inserts.
//
// Chunks have a fixed size, so a growing index never copies what it holds
// (a single slice growing by 1.25× allocates about five times its final
// size over its life).
type idIndex[V any] struct {
	chunks []idChunkOf[V] // sorted across chunks; all but the last full
	late   map[uuid.UUID]V
}

// idChunkOf is a sorted run of IDs with their values.
type idChunkOf[V any] struct {
	ids  []uuid.UUID
	vals []V
}

// compareIDs orders IDs by their bytes, as two big-endian words: a few
// instructions, inlined, where bytes.Compare is a call.
func compareIDs(a, b uuid.UUID) int {
	a0, b0 := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8])
	if a0 != b0 {
		if a0 < b0 {
			return -1
		}
		return 1
	}
	a1, b1 := binary.BigEndian.Uint64(a[8:]), binary.BigEndian.Uint64(b[8:])
	switch {
	case a1 < b1:
		return -1
	case a1 > b1:
		return 1
	}
	return 0
}

// last returns the greatest ID in the chunks; every late ID is smaller.
func (x *idIndex[V]) last() (uuid.UUID, bool) {
	if len(x.chunks) == 0 {
		return uuid.Nil, false
	}
	c := x.chunks[len(x.chunks)-1].ids
	return c[len(c)-1], true
}

// beyond reports whether id is greater than every ID in the index, so
// certainly not in it: always the case for the next ID from one source of
// increasing IDs, which then needs no lookup to be known new.
func (x *idIndex[V]) beyond(id uuid.UUID) bool {
	last, ok := x.last()
	return !ok || compareIDs(last, id) < 0
}

// add indexes a new ID (the caller ensures it is not in the index).
func (x *idIndex[V]) add(id uuid.UUID, v V) {
	if x.beyond(id) {
		x.push(id, v)
		return
	}
	if x.late == nil {
		x.late = make(map[uuid.UUID]V)
	}
	x.late[id] = v
}

// push appends an ID greater than every ID in the chunks.
func (x *idIndex[V]) push(id uuid.UUID, v V) {
	n := len(x.chunks)
	if n == 0 || len(x.chunks[n-1].ids) == idChunk {
		x.chunks = append(x.chunks, idChunkOf[V]{
			ids:  make([]uuid.UUID, 0, idChunk),
			vals: make([]V, 0, idChunk),
		})
		n++
	}
	c := &x.chunks[n-1]
	c.ids = append(c.ids, id)
	c.vals = append(c.vals, v)
}

// get returns the value of id, if indexed.
func (x *idIndex[V]) get(id uuid.UUID) (V, bool) {
	var zero V
	n := len(x.chunks)
	if n == 0 {
		return zero, false // and no late IDs: the first ID is always pushed
	}
	switch last := &x.chunks[n-1]; compareIDs(last.ids[len(last.ids)-1], id) {
	case -1:
		return zero, false // beyond
	case 0:
		return last.vals[len(last.vals)-1], true // the newest ID
	}
	ci, j, found := x.find(id)
	if found {
		return x.chunks[ci].vals[j], true
	}
	v, ok := x.late[id]
	return v, ok
}

// find returns the chunk and position of the first chunk ID ≥ id, and
// whether it is id.
func (x *idIndex[V]) find(id uuid.UUID) (ci, j int, found bool) {
	n := len(x.chunks)
	if n == 0 {
		return 0, 0, false
	}
	if ids := x.chunks[n-1].ids; compareIDs(ids[0], id) <= 0 {
		// In the last chunk, where the most recent IDs are: those are the
		// ones usually looked up (an invoice is updated in the minutes
		// after it is created), so search from the end.
		j := searchFromEnd(ids, id)
		return n - 1, j, j < len(ids) && ids[j] == id
	}
	// The first chunk whose last ID is ≥ id, then the first ID ≥ id in it:
	// hand-written searches, so that the comparisons inline.
	lo, hi := 0, n-1 // not the last chunk: its first ID is > id
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		c := x.chunks[m].ids
		if compareIDs(c[len(c)-1], id) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	ids := x.chunks[lo].ids // lo ≤ n-1: the last chunk's first ID is ≥ id
	i := searchIDs(ids, id, 0, len(ids))
	return lo, i, i < len(ids) && ids[i] == id
}

// searchIDs returns the first i in [lo, hi) with ids[i] ≥ id, or hi: ids
// is sorted, ids[lo-1] (if any) < id and ids[hi] (if any) ≥ id.
func searchIDs(ids []uuid.UUID, id uuid.UUID, lo, hi int) int {
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if compareIDs(ids[m], id) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// searchFromEnd is searchIDs over all of ids, a sorted run whose first ID
// is ≤ id, for an id likely near its end: it steps back from the end by
// 1, 2, 4, … to an ID below id, then searches the last step, so finding
// the ID k places from the end costs about 2·log2(k) comparisons.
func searchFromEnd(ids []uuid.UUID, id uuid.UUID) int {
	hi := len(ids) // ids[hi:] are ≥ id
	for step := 1; ; step *= 2 {
		lo := hi - step
		if lo <= 0 {
			return searchIDs(ids, id, 0, hi)
		}
		switch compareIDs(ids[lo], id) {
		case -1:
			return searchIDs(ids, id, lo+1, hi)
		case 0:
			return lo // IDs are unique: the first ≥ id
		}
		hi = lo
	}
}

// merge sorts the late IDs into the chunks: O(N + m log m) for m late
// IDs, and only when there are some.
func (x *idIndex[V]) merge() {
	if len(x.late) == 0 {
		return
	}
	late := make([]uuid.UUID, 0, len(x.late))
	for id := range x.late {
		late = append(late, id)
	}
	slices.SortFunc(late, compareIDs)
	old := x.chunks
	x.chunks = nil
	var ci, j int // position in old
	for _, id := range late {
		for ; ci < len(old); ci, j = ci+1, 0 {
			c := old[ci]
			for ; j < len(c.ids) && compareIDs(c.ids[j], id) < 0; j++ {
				x.push(c.ids[j], c.vals[j])
			}
			if j < len(c.ids) {
				break
			}
		}
		x.push(id, x.late[id])
	}
	for ; ci < len(old); ci, j = ci+1, 0 {
		c := old[ci]
		for ; j < len(c.ids); j++ {
			x.push(c.ids[j], c.vals[j])
		}
	}
	x.late = nil
}

// after merges the late IDs in and yields the IDs after cursor, with their
// values, in ascending order. The index must not change while the sequence
// is in use.
func (x *idIndex[V]) after(cursor uuid.UUID) iter.Seq2[uuid.UUID, V] {
	x.merge()
	return func(yield func(uuid.UUID, V) bool) {
		ci, j, found := x.find(cursor)
		if found {
			j++
		}
		for ; ci < len(x.chunks); ci, j = ci+1, 0 {
			c := x.chunks[ci]
			for ; j < len(c.ids); j++ {
				if !yield(c.ids[j], c.vals[j]) {
					return
				}
			}
		}
	}
}
