package pgstore

import (
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

// TestFastArgs: uuid.UUID arguments become the same pgtype.UUID, nothing
// else changes, and the caller's slice is left alone.
func TestFastArgs(t *testing.T) {
	id, id2 := uuid.New(), uuid.New()
	in := []any{"x", id, int64(3), nil, id2, pgUUID(id)}
	out := fast(in)
	want := []any{"x", pgtype.UUID{Bytes: id, Valid: true}, int64(3), nil, pgtype.UUID{Bytes: id2, Valid: true}, pgUUID(id)}
	if len(out) != len(want) {
		t.Fatalf("got %d args, want %d", len(out), len(want))
	}
	for i := range want {
		if out[i] != want[i] {
			t.Errorf("arg %d: got %#v, want %#v", i, out[i], want[i])
		}
	}
	if in[1] != any(id) || in[4] != any(id2) {
		t.Error("the caller's slice was changed")
	}
	plain := []any{"x", int64(1)}
	if got := fast(plain); &got[0] != &plain[0] {
		t.Error("a slice without UUIDs was copied")
	}
}
