package pgstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	invoice "github.com/cryptoinvoice/invoice"
)

// Rows the Store cannot decode (written by hand, by an older or newer
// version, or damaged) never stall the others. A claim that meets one sets
// it aside — an invoice is no longer claimed by the sweep, a delivery is no
// longer claimed for delivery (it stays pending, so the deliveries after it
// of the same invoice and channel keep waiting: their order holds) — logs
// it at ERROR and counts it, and serves the rest of the batch. A listing
// skips it (logged and counted too) and fills the page with the rows after
// it. The operator sees them with SetAside, repairs them with SQL, and puts
// them back with RetrySetAside.
//
// The set-aside state lives in the rows themselves, so no extra table is
// needed: an invoice that is not final, has a deadline and no sweep key
// (sweep_at IS NULL), and a pending delivery that is ready at 'infinity'.

// ErrUndecodable matches the error of a row the Store cannot decode (see
// RowError).
var ErrUndecodable = errors.New("pgstore: row cannot be decoded")

// RowError is a stored row the Store cannot decode. It matches
// ErrUndecodable.
type RowError struct {
	Kind string    // "invoice" or "delivery"
	ID   uuid.UUID // the row's id
	Err  error     // what is wrong with it
}

// Error names the row and the problem.
func (e *RowError) Error() string {
	return fmt.Sprintf("pgstore: %s %s cannot be decoded: %v", e.Kind, e.ID, e.Err)
}

// Unwrap returns the decoding error.
func (e *RowError) Unwrap() error { return e.Err }

// Is matches ErrUndecodable.
func (e *RowError) Is(target error) bool { return target == ErrUndecodable }

func undecodable(kind string, id uuid.UUID, err error) error {
	return &RowError{Kind: kind, ID: id, Err: err}
}

// rowError returns the RowError of a scan, or ok false when the error is
// about something else (the connection, the context). Scans never fail on
// a stored value (see fromTS), so the rest of a result set is still read.
func rowError(err error) (*RowError, bool) {
	var re *RowError
	if errors.As(err, &re) {
		return re, true
	}
	return nil, false
}

// setAsideStats counts set-aside and skipped rows; shared by a Store and
// its WithTx views.
type setAsideStats struct {
	setAside atomic.Int64
	skipped  atomic.Int64
}

// UndecodableCounts returns how many undecodable rows this Store (and its
// WithTx views) set aside in claims and skipped in listings since it was
// created. SetAside lists the rows themselves.
func (s *Store) UndecodableCounts() (setAside, skipped int64) {
	return s.stats.setAside.Load(), s.stats.skipped.Load()
}

// setAside takes undecodable rows a claim met out of the claims and
// reports them. The claim already holds them under a lease, so an error
// here only delays the setting aside to the next claim.
func (s *Store) setAside(ctx context.Context, bad []*RowError) {
	for _, re := range bad {
		s.stats.setAside.Add(1)
		s.logger.ErrorContext(ctx, "pgstore: undecodable row set aside", "kind", re.Kind, "id", re.ID,
			"schema", s.schema, "error", re.Err.Error())
		query := s.sql.setAsideInvoice
		if re.Kind == "delivery" {
			query = s.sql.setAsideDelivery
		}
		if err := s.run(ctx, "set aside "+re.Kind, func(ctx context.Context) error {
			_, err := s.db.Exec(ctx, query, re.ID)
			return err
		}); err != nil {
			s.logger.ErrorContext(ctx, "pgstore: could not set aside an undecodable row", "kind", re.Kind,
				"id", re.ID, "error", err.Error())
		}
	}
}

// skipped reports an undecodable row a listing left out.
func (s *Store) skipped(ctx context.Context, re *RowError) {
	s.stats.skipped.Add(1)
	s.logger.ErrorContext(ctx, "pgstore: undecodable row skipped in a listing", "kind", re.Kind, "id", re.ID,
		"schema", s.schema, "error", re.Err.Error())
}

// SetAsideRow is one row a claim set aside.
type SetAsideRow struct {
	Kind string    // "invoice" or "delivery"
	ID   uuid.UUID // the row's id
	// Error is why it cannot be decoded now; "" once it has been repaired
	// (it stays set aside until RetrySetAside).
	Error string
}

// SetAside lists up to limit rows of each kind that claims set aside,
// invoices first, each in id order, with what is wrong with them. A limit
// of zero or less means 100. Both listings read an index that holds only
// set-aside rows (invoices_set_aside_idx, migration 0004) or finds them
// directly (deliveries_ready_idx), so the cost does not grow with the
// healthy rows stored.
func (s *Store) SetAside(ctx context.Context, limit int) ([]SetAsideRow, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []SetAsideRow
	err := s.run(ctx, "list set-aside rows", func(ctx context.Context) error {
		out = out[:0]
		for _, q := range []struct {
			kind, sql string
			scan      func(pgx.Rows) (uuid.UUID, error)
		}{
			{"invoice", s.sql.listSetAsideInvoices, func(r pgx.Rows) (uuid.UUID, error) {
				inv, err := scanInvoice(r)
				if err != nil {
					return uuid.Nil, err
				}
				return inv.ID, nil
			}},
			{"delivery", s.sql.listSetAsideDeliveries, func(r pgx.Rows) (uuid.UUID, error) {
				d, err := scanDelivery(r)
				if err != nil {
					return uuid.Nil, err
				}
				return d.ID, nil
			}},
		} {
			rows, err := s.db.Query(ctx, q.sql, limit)
			if err != nil {
				return err
			}
			for rows.Next() {
				id, err := q.scan(rows)
				row := SetAsideRow{Kind: q.kind, ID: id}
				if re, ok := rowError(err); ok {
					row.ID, row.Error = re.ID, re.Err.Error()
				} else if err != nil {
					rows.Close()
					return err
				}
				out = append(out, row)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RetrySetAside puts a set-aside row (repaired, presumably) back: an
// invoice is claimable by the sweep at its deadline again, a delivery at
// its NextAttemptAt. If it still cannot be decoded, the next claim sets it
// aside again. An id that names no set-aside row yields an error matching
// invoice.ErrNotFound.
func (s *Store) RetrySetAside(ctx context.Context, id uuid.UUID) error {
	var n int64
	err := s.run(ctx, "retry set-aside row", func(ctx context.Context) error {
		return s.db.QueryRow(ctx, s.sql.retrySetAside, id).Scan(&n)
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("pgstore: retry set-aside row %s: %w", id, invoice.ErrNotFound)
	}
	return nil
}

// WithLogger makes the Store log undecodable rows it sets aside or skips
// (at ERROR) to l. Default: nothing is logged (they are still counted and
// listed by SetAside).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}
