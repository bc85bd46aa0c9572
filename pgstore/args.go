package pgstore

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// uuidArgs is a querier that passes every uuid.UUID argument as a
// pgtype.UUID, which pgx encodes directly (16 bytes). pgx encodes a
// uuid.UUID through its driver.Valuer: Value() formats the 36-character
// string, encoding that string as a binary uuid fails (an error formatted
// with fmt), and pgx then parses the string back and encodes the result —
// about 60 times the work (15 µs against 0.25 µs per argument measured on
// this project's machine), twice per transition. The values sent are the
// same.
type uuidArgs struct{ q querier }

// fast returns args with uuid.UUID values replaced by pgtype.UUID, copying
// args only when one is there (the caller's slice is never changed).
func fast(args []any) []any {
	for i, a := range args {
		if _, ok := a.(uuid.UUID); ok {
			out := make([]any, len(args))
			copy(out, args[:i])
			for j := i; j < len(args); j++ {
				if id, ok := args[j].(uuid.UUID); ok {
					out[j] = pgUUID(id)
				} else {
					out[j] = args[j]
				}
			}
			return out
		}
	}
	return args
}

func (u uuidArgs) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return u.q.Exec(ctx, sql, fast(args)...)
}

func (u uuidArgs) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return u.q.Query(ctx, sql, fast(args)...)
}

func (u uuidArgs) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return u.q.QueryRow(ctx, sql, fast(args)...)
}

// pgUUID is a UUID as pgx encodes it in every query execution mode (a
// uuid.UUID in a slice is unknown to the text encoding of the simple and
// exec modes), and without the detour of uuidArgs.
func pgUUID(id uuid.UUID) pgtype.UUID { return pgtype.UUID{Bytes: id, Valid: true} }
