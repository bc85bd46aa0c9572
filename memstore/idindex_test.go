package memstore

import (
	"bytes"
	"iter"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestIDIndex checks the chunked index against a sorted slice: IDs in
// order, out of order and mixed, across chunk boundaries, with cursors
// before, between, on and after the stored IDs.
func TestIDIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	randomID := func() uuid.UUID {
		var id uuid.UUID
		for i := range id {
			id[i] = byte(rng.Uint32())
		}
		return id
	}
	for _, tc := range []struct {
		name         string
		n            int
		outOfOrderIn int // every k-th ID is random; 0: all in order
	}{
		{"empty", 0, 0},
		{"in order, one chunk", 10, 0},
		{"in order, exactly full chunks", 2 * idChunk, 0},
		{"in order, several chunks", 3*idChunk + 17, 0},
		{"all random", 2*idChunk + 5, 1},
		{"mostly in order", 3*idChunk + 1, 97},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var x idIndex[int]
			want := []uuid.UUID{}
			stored := map[uuid.UUID]bool{}
			vals := map[uuid.UUID]int{}
			next := uuid.UUID{}
			for i := range tc.n {
				var id uuid.UUID
				if tc.outOfOrderIn > 0 && i%tc.outOfOrderIn == 0 {
					id = randomID()
				} else {
					next[8], next[15] = byte(i>>8), byte(i) // increasing
					next[0] = 0x80
					id = next
				}
				if x.beyond(id) && stored[id] {
					t.Fatalf("beyond(%s) is true for a stored ID", id)
				}
				x.add(id, i)
				stored[id] = true
				vals[id] = i
				if x.beyond(id) {
					t.Fatalf("beyond(%s) is true right after adding it", id)
				}
				want = append(want, id)
				if i%(idChunk+3) == 0 { // list now and then, merging what came out of order
					_ = keys(x.after(uuid.Nil))
				}
			}
			for id, v := range vals { // late IDs not merged yet included
				got, ok := x.get(id)
				require.True(t, ok, "get(%s)", id)
				require.Equal(t, v, got, "get(%s)", id)
			}
			for range 100 {
				_, ok := x.get(randomID())
				require.False(t, ok, "get of an absent ID")
			}
			slices.SortFunc(want, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
			want = slices.Compact(want)
			require.Equal(t, want, append([]uuid.UUID{}, keys(x.after(uuid.Nil))...))
			for k := 0; k < 50 && len(want) > 0; k++ {
				i := rng.IntN(len(want))
				require.Equal(t, append([]uuid.UUID{}, want[i+1:]...), append([]uuid.UUID{}, keys(x.after(want[i]))...), "cursor on an ID")
				between := want[i]
				between[15]++ // just after want[i], before want[i+1] (unless equal)
				got := keys(x.after(between))
				exp := slices.DeleteFunc(slices.Clone(want), func(id uuid.UUID) bool { return bytes.Compare(id[:], between[:]) <= 0 })
				require.Equal(t, append([]uuid.UUID{}, exp...), append([]uuid.UUID{}, got...), "cursor between IDs")
			}
			max := uuid.Max
			require.Empty(t, keys(x.after(max)))
			for _, c := range x.chunks[:max0(len(x.chunks)-1)] {
				require.Len(t, c.ids, idChunk, "all chunks but the last are full")
			}
		})
	}
}

// TestIDIndexFind: find gives the position of the first ID ≥ the one
// asked for, for every stored ID and every gap between them, in every
// chunk (the last one is searched from its end, the others by bisection),
// for indexes whose last chunk is short, half full and full.
func TestIDIndexFind(t *testing.T) {
	idOf := func(k int) uuid.UUID { // increasing in k
		var id uuid.UUID
		id[0], id[7], id[14], id[15] = 0x80, byte(k>>16), byte(k>>8), byte(k)
		return id
	}
	for _, n := range []int{1, 2, 3, 5, 17, idChunk - 1, idChunk, idChunk + 1, 2*idChunk + idChunk/2} {
		var x idIndex[int]
		for i := range n {
			x.add(idOf(2*i+1), i) // odd keys stored, even keys are the gaps
		}
		require.Empty(t, x.late)
		for k := 0; k <= 2*n+1; k++ {
			ci, j, found := x.find(idOf(k))
			want := k / 2 // stored IDs below idOf(k)
			require.Equal(t, want, ci*idChunk+j, "n=%d k=%d: position", n, k)
			require.Equal(t, k%2 == 1 && k < 2*n, found, "n=%d k=%d: found", n, k)
			v, ok := x.get(idOf(k))
			require.Equal(t, found, ok)
			if ok {
				require.Equal(t, want, v)
			}
		}
	}
}

func max0(n int) int { return max(n, 0) }

func keys(seq iter.Seq2[uuid.UUID, int]) []uuid.UUID {
	var ids []uuid.UUID
	for id := range seq {
		ids = append(ids, id)
	}
	return ids
}
