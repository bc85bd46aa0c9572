package pgstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	invoice "github.com/cryptoinvoice/invoice"
)

// invoiceArgs returns the arguments $1..$30 of createInvoice and
// updateInvoice for inv.
func invoiceArgs(inv *invoice.Invoice) ([]any, error) {
	// PostgreSQL refuses NUL and invalid UTF-8 in text and jsonb (and JSON
	// encoding would replace invalid bytes): such an invoice is refused
	// before the database sees it, as every store refuses it.
	if err := inv.CheckStorable(); err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	return rowArgs(inv, 0)
}

// rowArgs is invoiceArgs without the storability check. The JSON columns
// in skip (colQuotes, colTransactions, colRefundClaims) are not encoded:
// their arguments are nil (columns.go skips them when they are unchanged,
// and remembers what it read without them).
func rowArgs(inv *invoice.Invoice, skip colMask) ([]any, error) {
	typ, err := columnEnum("type", inv.Type)
	if err != nil {
		return nil, err
	}
	mode, err := columnEnum("payment_mode", inv.Mode)
	if err != nil {
		return nil, err
	}
	status, err := columnEnum("status", inv.Status)
	if err != nil {
		return nil, err
	}
	var quotes, txs, claims []byte
	if skip&(1<<colQuotes) == 0 {
		if quotes, err = encodeList(inv.Quotes, toJQuote); err != nil {
			return nil, err
		}
	}
	if skip&(1<<colTransactions) == 0 {
		if txs, err = encodeList(inv.Transactions, toJTransaction); err != nil {
			return nil, err
		}
	}
	if skip&(1<<colRefundClaims) == 0 {
		if claims, err = encodeList(inv.RefundClaims, toJRefundClaim); err != nil {
			return nil, err
		}
	}
	// The sweep key: the deadline, none when final or without deadline.
	var sweepAt any
	if !inv.Status.IsFinal() {
		sweepAt = tsArg(inv.Deadline)
	}
	return []any{
		inv.ID, inv.ForeignID, inv.EndUserReference, typ, mode, inv.Title, inv.Description,
		exactString(inv.Amount), inv.Currency, inv.SenderCurrency, exactString(inv.SenderAmount),
		exactString(inv.Rate), jsonArg(quotes),
		tsArg(inv.FixedAt), tsArg(inv.ExpiresAt), inv.Deposit.Address, inv.Deposit.Tag, inv.Email,
		inv.URLSuccess, inv.URLFailed, status, inv.Error, jsonArg(txs), jsonArg(claims),
		tsArg(inv.Deadline), tsArg(inv.CreatedAt), tsArg(inv.UpdatedAt), sweepAt,
		inv.CheckoutToken, inv.Deposit.Path,
	}, nil
}

// jsonArg passes a JSON document as text (cast to jsonb in the SQL), so
// that every pgx query execution mode encodes it alike; nil is SQL NULL.
func jsonArg(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// scanInvoice reads one row of invoiceColumns.
func scanInvoice(row pgx.Row) (*invoice.Invoice, error) {
	return scanInvoiceThen(row)
}

// scanInvoiceThen reads one row of invoiceColumns followed by columns
// scanned into extra, in order.
func scanInvoiceThen(row pgx.Row, extra ...any) (*invoice.Invoice, error) {
	var (
		inv                                        invoice.Invoice
		typ, mode, status                          string
		amount, senderAmount, rate                 string
		quotes, txs, claims                        []byte
		fixedAt, expiresAt, deadline, created, upd pgtype.Timestamptz
	)
	err := row.Scan(append([]any{&inv.ID, &inv.Number, &inv.ForeignID, &inv.EndUserReference, &typ, &mode, &inv.Title,
		&inv.Description, &amount, &inv.Currency, &inv.SenderCurrency, &senderAmount, &rate, &quotes,
		&fixedAt, &expiresAt, &inv.Deposit.Address, &inv.Deposit.Tag, &inv.Email, &inv.URLSuccess,
		&inv.URLFailed, &status, &inv.Error, &txs, &claims, &deadline, &created, &upd, &inv.Version,
		&inv.CheckoutToken, &inv.Deposit.Path}, extra...)...)
	if err != nil {
		return nil, err
	}
	if err := inv.Type.UnmarshalText([]byte(typ)); err != nil {
		return nil, undecodable("invoice", inv.ID, err)
	}
	if inv.Mode, err = invoice.ParsePaymentMode(mode); err != nil {
		return nil, undecodable("invoice", inv.ID, err)
	}
	if inv.Status, err = invoice.ParseStatus(status); err != nil {
		return nil, undecodable("invoice", inv.ID, err)
	}
	if inv.Amount, err = parseDecimal(amount); err != nil {
		return nil, undecodable("invoice", inv.ID, err)
	}
	if inv.SenderAmount, err = parseDecimal(senderAmount); err != nil {
		return nil, undecodable("invoice", inv.ID, err)
	}
	if inv.Rate, err = parseDecimal(rate); err != nil {
		return nil, undecodable("invoice", inv.ID, err)
	}
	if inv.Quotes, err = decodeList(quotes, fromJQuote); err != nil {
		return nil, undecodable("invoice", inv.ID, err)
	}
	if inv.Transactions, err = decodeList(txs, fromJTransaction); err != nil {
		return nil, undecodable("invoice", inv.ID, err)
	}
	if inv.RefundClaims, err = decodeList(claims, fromJRefundClaim); err != nil {
		return nil, undecodable("invoice", inv.ID, err)
	}
	var tsErr error
	inv.FixedAt, inv.ExpiresAt = fromTS("fixed_at", fixedAt, &tsErr), fromTS("expires_at", expiresAt, &tsErr)
	inv.Deadline = fromTS("deadline", deadline, &tsErr)
	inv.CreatedAt, inv.UpdatedAt = fromTS("created_at", created, &tsErr), fromTS("updated_at", upd, &tsErr)
	if tsErr != nil {
		return nil, undecodable("invoice", inv.ID, tsErr)
	}
	return &inv, nil
}

// CreateInvoice stores inv with Version 1 and the next invoice number
// (from an identity column), and sets inv.Version and inv.Number. A taken
// ForeignID yields an error matching invoice.ErrDuplicate and stores
// nothing (ON CONFLICT DO NOTHING: it does not abort a host transaction);
// a taken ID is an error too. The sweep key is inv.Deadline unless the
// status is final.
func (s *Store) CreateInvoice(ctx context.Context, inv *invoice.Invoice) error {
	if inv == nil {
		return errors.New("pgstore: create invoice: nil invoice")
	}
	args, err := invoiceArgs(inv)
	if err != nil {
		return err
	}
	var number int64
	err = s.run(ctx, "create invoice", func(ctx context.Context) error {
		err := s.db.QueryRow(ctx, s.sql.createInvoice, args...).Scan(&number)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("foreign_id %q: %w", inv.ForeignID, invoice.ErrDuplicate)
		}
		return err
	})
	if err != nil {
		return err
	}
	inv.Number, inv.Version = number, 1
	return nil
}

// GetInvoice returns the invoice with the given ID, or an error matching
// invoice.ErrNotFound.
func (s *Store) GetInvoice(ctx context.Context, id uuid.UUID) (*invoice.Invoice, error) {
	return s.getOne(ctx, "get invoice", s.sql.getInvoice, id)
}

// GetInvoiceByForeignID returns the invoice with the given foreign_id, or
// an error matching invoice.ErrNotFound.
func (s *Store) GetInvoiceByForeignID(ctx context.Context, foreignID string) (*invoice.Invoice, error) {
	return s.getOne(ctx, "get invoice by foreign_id", s.sql.getInvoiceByForeign, foreignID)
}

// GetInvoiceByCheckoutToken returns the invoice whose CheckoutToken is
// token, or an error matching invoice.ErrNotFound (a unique partial index
// finds it).
func (s *Store) GetInvoiceByCheckoutToken(ctx context.Context, token string) (*invoice.Invoice, error) {
	return s.getOne(ctx, "get invoice by checkout token", s.sql.getInvoiceByToken, token)
}

// GetInvoiceByAddress returns the newest invoice (highest number) whose
// deposit address is address, or an error matching invoice.ErrNotFound
// (from a partial index on the address and number).
func (s *Store) GetInvoiceByAddress(ctx context.Context, address string) (*invoice.Invoice, error) {
	return s.getOne(ctx, "get invoice by deposit address", s.sql.getInvoiceByAddress, address)
}

// NextSequence returns the next value of the counter called name, from 0:
// one upsert, so concurrent callers (any engine, any process) never get the
// same value, and the counter survives restarts. Inside a WithTx view the
// value is taken back if the host's transaction rolls back (and may then
// be handed out again).
func (s *Store) NextSequence(ctx context.Context, name string) (int64, error) {
	if !invoice.ValidStoredKey(name) {
		return 0, fmt.Errorf("pgstore: sequence name %q is not valid UTF-8 without NUL: %w", name, invoice.ErrValidation)
	}
	var v int64
	err := s.run(ctx, "next sequence", func(ctx context.Context) error {
		return s.db.QueryRow(ctx, s.sql.nextSequence, name).Scan(&v)
	})
	if err != nil {
		return 0, err
	}
	return v, nil
}

func (s *Store) getOne(ctx context.Context, what, query string, key any) (*invoice.Invoice, error) {
	if k, ok := key.(string); ok && !invoice.ValidStoredKey(k) {
		// No row can hold it, and PostgreSQL would answer with an encoding
		// error: not found, as in every store.
		return nil, fmt.Errorf("pgstore: %s %q: %w", what, k, invoice.ErrNotFound)
	}
	inv, err := queryOne(ctx, s, what, query, key, scanInvoice)
	if err == nil {
		s.remember(inv)
	}
	return inv, err
}

// queryOne runs a one-row query for key, mapping "no row" to an error
// matching invoice.ErrNotFound.
func queryOne[T any](ctx context.Context, s *Store, what, query string, key any, scan func(pgx.Row) (T, error)) (T, error) {
	var v T
	err := s.run(ctx, what, func(ctx context.Context) error {
		var err error
		v, err = scan(s.db.QueryRow(ctx, query, key))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%v: %w", key, invoice.ErrNotFound)
		}
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// ListInvoices returns up to q.Limit invoices in ascending ID order after
// q.After, of status q.Status when it is non-zero. A Limit of zero or less
// returns nothing.
func (s *Store) ListInvoices(ctx context.Context, q invoice.ListQuery) ([]*invoice.Invoice, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if q.Limit <= 0 {
		return nil, nil
	}
	query, args := s.sql.listInvoices, []any{q.After, q.Limit}
	ranged := !q.CreatedFrom.IsZero() || !q.CreatedBefore.IsZero()
	if ranged {
		query, args = s.sql.listInvoicesCreated[0], append(args,
			timeBound(q.CreatedFrom, pgtype.NegativeInfinity), timeBound(q.CreatedBefore, pgtype.Infinity))
	}
	if q.Status != 0 {
		status, err := columnEnum("status", q.Status)
		if err != nil {
			return nil, err
		}
		if ranged {
			query = s.sql.listInvoicesCreated[1]
		} else {
			query = s.sql.listInvoicesStatus
		}
		args = append(args, status)
	}
	return listPage(ctx, s, "list invoices", query, args, q.After, q.Limit, scanInvoice,
		func(inv *invoice.Invoice) uuid.UUID { return inv.ID })
}

// listPage runs a paged listing query ($1 the cursor, $2 the limit, then
// args[2:]) and returns up to limit rows decoded by scan, in the query's
// ID order. A row that cannot be decoded is set aside (logged and counted
// by s.skipped) and the page is filled with the rows after it, so paging
// stays exact and one bad row never hides the rest.
func listPage[T any](ctx context.Context, s *Store, what, query string, args []any, after uuid.UUID, limit int,
	scan func(pgx.Row) (T, error), id func(T) uuid.UUID) ([]T, error) {
	var (
		out     []T
		skipped []*RowError
	)
	err := s.run(ctx, what, func(ctx context.Context) error {
		out, skipped = out[:0], skipped[:0]
		for cursor := after; len(out) < limit; {
			want := limit - len(out)
			args[0], args[1] = cursor, want
			rows, err := s.db.Query(ctx, query, args...)
			if err != nil {
				return err
			}
			n, bad := 0, 0
			for rows.Next() {
				n++
				v, err := scan(rows)
				if re, ok := rowError(err); ok {
					skipped = append(skipped, re)
					cursor, bad = re.ID, bad+1
					continue
				} else if err != nil {
					rows.Close()
					return err
				}
				out = append(out, v)
				cursor = id(v)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if bad == 0 || n < want {
				return nil
			}
		}
		return nil
	})
	for _, re := range skipped {
		s.skipped(ctx, re)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// timeBound is t, or the given infinity when t is zero (no bound).
func timeBound(t time.Time, inf pgtype.InfinityModifier) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{InfinityModifier: inf, Valid: true}
	}
	return pgtype.Timestamptz{Time: t, Valid: true}
}

// ClaimDueInvoices returns copies of up to limit invoices whose sweep key
// (deadline, or the end of an earlier claim's lease) is at or before now,
// earliest first (ties by deadline, then number), and holds them until
// now+lease or their next update. Rows are locked with FOR UPDATE SKIP
// LOCKED, so concurrent claims from several engines never wait for each
// other nor return the same invoice. The one statement both claims and
// reads: each copy is the stored row after the claim, decoded as by
// GetInvoice, with its Version (claiming does not change it).
func (s *Store) ClaimDueInvoices(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*invoice.Invoice, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	// Undecodable rows are set aside and the claim repeated for as many
	// as they took, so a batch is full whenever enough healthy rows are due.
	var all []dueInvoice
	for want := limit; want > 0; {
		var (
			claimed []dueInvoice
			bad     []*RowError
		)
		err := s.run(ctx, "claim due invoices", func(ctx context.Context) error {
			claimed, bad = claimed[:0], bad[:0]
			rows, err := s.db.Query(ctx, s.sql.claimDueInvoices, now.UTC(), now.Add(lease).UTC(), want)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var d dueInvoice
				if d.inv, err = scanInvoiceThen(rows, &d.at); err != nil {
					if re, ok := rowError(err); ok {
						bad = append(bad, re)
						continue
					}
					return err
				}
				claimed = append(claimed, d)
			}
			return rows.Err()
		})
		if err != nil {
			if len(all) > 0 {
				break // serve what was claimed; the rest waits for the next claim
			}
			return nil, err
		}
		all = append(all, claimed...)
		s.setAside(ctx, bad)
		if len(bad) == 0 || len(claimed)+len(bad) < want {
			break
		}
		want -= len(claimed)
	}
	claimed := all
	slices.SortFunc(claimed, compareDue)
	invs := make([]*invoice.Invoice, len(claimed))
	for i, d := range claimed {
		invs[i] = d.inv
		s.remember(d.inv)
	}
	return invs, nil
}

// dueInvoice is a claimed invoice with the sweep key it was claimed at.
type dueInvoice struct {
	inv *invoice.Invoice
	at  time.Time
}

// compareDue orders claimed invoices as the claim statement picks them: by
// sweep key, then deadline, then number.
func compareDue(a, b dueInvoice) int {
	return cmp.Or(a.at.Compare(b.at), a.inv.Deadline.Compare(b.inv.Deadline), cmp.Compare(a.inv.Number, b.inv.Number))
}
