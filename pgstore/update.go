package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	invoice "github.com/cryptoinvoice/invoice"
)

// outboxRow is one outbox record as typed parameters (deliveryInsertColumns
// without invoice_id, which the statement takes from the updated row).
type outboxRow struct {
	id         uuid.UUID
	channel    string
	seq        int64
	callback   pgtype.Text // JSON, encoded once
	notice     pgtype.Text
	payout     pgtype.Text
	state      string
	createdAt  pgtype.Timestamptz
	next       time.Time
	attempts   pgtype.Text
	leaseID    pgtype.UUID
	leaseUntil pgtype.Timestamptz
	readyAt    time.Time
}

// outboxRows encodes the outbox records of an update of invoiceID. Records
// must belong to it (a zero InvoiceID is taken as it).
func outboxRows(invoiceID uuid.UUID, outbox []*invoice.Delivery) ([]outboxRow, error) {
	rows := make([]outboxRow, len(outbox))
	for i, d := range outbox {
		switch {
		case d == nil:
			return nil, fmt.Errorf("pgstore: update invoice %s: outbox record %d is nil", invoiceID, i)
		case d.InvoiceID != invoiceID && d.InvoiceID != uuid.Nil:
			return nil, fmt.Errorf("pgstore: update invoice %s: delivery %s belongs to invoice %s", invoiceID, d.ID, d.InvoiceID)
		}
		if err := d.CheckStorable(); err != nil {
			return nil, fmt.Errorf("pgstore: update invoice %s: %w", invoiceID, err)
		}
		r := &rows[i]
		var err error
		r.id, r.seq = d.ID, d.Seq
		if r.channel, err = channelName(d.Channel); err != nil {
			return nil, err
		}
		cb, err := encodeCallback(d.Callback)
		if err != nil {
			return nil, err
		}
		r.callback = textArg(cb)
		n, err := encodeNotice(d.Notice)
		if err != nil {
			return nil, err
		}
		r.notice = textArg(n)
		po, err := encodePayout(d.Payout)
		if err != nil {
			return nil, err
		}
		r.payout = textArg(po)
		state := d.State
		if state == 0 {
			state = invoice.DeliveryPending
		}
		if r.state, err = stateName(state); err != nil {
			return nil, err
		}
		r.createdAt = tsValue(d.CreatedAt)
		r.next = d.NextAttemptAt.UTC()
		if len(d.Attempts) > 0 {
			a, err := encodeAttempts(d.Attempts)
			if err != nil {
				return nil, err
			}
			r.attempts = textArg(a)
		}
		if d.LeaseID != uuid.Nil {
			r.leaseID = pgtype.UUID{Bytes: d.LeaseID, Valid: true}
		}
		r.leaseUntil = tsValue(d.LeaseUntil)
		r.readyAt = r.next
		if d.LeaseUntil.After(d.NextAttemptAt) {
			r.readyAt = d.LeaseUntil.UTC()
		}
	}
	return rows, nil
}

func textArg(b []byte) pgtype.Text {
	if b == nil {
		return pgtype.Text{}
	}
	return pgtype.Text{String: string(b), Valid: true}
}

func tsValue(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: t.UTC(), Valid: true}
}

// UpdateInvoice replaces the stored invoice with inv and appends outbox to
// the outbox in one statement (one transaction), if the stored Version
// still equals inv.Version (UPDATE … WHERE id = $1 AND version = $2); it
// then sets inv.Version to the stored Version+1. Otherwise nothing changes
// and the error matches invoice.ErrConflict, or invoice.ErrNotFound when
// there is no such invoice (told apart by a second query, on that path
// only). A ForeignID changed to one another invoice has yields
// invoice.ErrDuplicate.
//
// It writes only the columns that differ from the row this Store last read
// at inv.Version (every column when it has not read that version, or in a
// WithTx view), plus sweep_at; the outbox rows travel as typed parameters,
// each payload encoded once.
//
// Outbox records must belong to inv (a zero InvoiceID is taken as inv.ID)
// and have IDs not stored before. The sweep key becomes inv.Deadline (none
// when zero or when the status is final), releasing any sweep lease.
func (s *Store) UpdateInvoice(ctx context.Context, inv *invoice.Invoice, outbox []*invoice.Delivery) error {
	if inv == nil {
		return errors.New("pgstore: update invoice: nil invoice")
	}
	if err := inv.CheckStorable(); err != nil {
		return fmt.Errorf("pgstore: %w", err)
	}
	prev := s.seenArgs(inv.ID, inv.Version)
	var same colMask // JSON columns unchanged: not encoded, not written
	if prev != nil {
		same = prev.unchangedJSON(inv)
	}
	args, err := rowArgs(inv, same)
	if err != nil {
		return err
	}
	rows, err := outboxRows(inv.ID, outbox)
	if err != nil {
		return err
	}
	cols := allColumns
	if prev != nil {
		cols = changedColumns(prev, args, same)
	}
	query := s.stmts.get(stmtKey{cols: cols, outbox: len(rows)}, func() string { return buildUpdate(s.ident, cols, len(rows)) })
	params := make([]any, 0, 2+len(args)+outboxParams*len(rows))
	params = append(params, inv.ID, inv.Version)
	for i, a := range args {
		if cols&(1<<i) != 0 {
			params = append(params, a)
		}
	}
	for _, r := range rows {
		params = append(params, r.id, r.channel, r.seq, r.callback, r.notice, r.payout, r.state, r.createdAt, r.next,
			r.attempts, r.leaseID, r.leaseUntil, r.readyAt)
	}
	var (
		version int64
		found   bool
	)
	err = s.run(ctx, "update invoice", func(ctx context.Context) error {
		err := s.db.QueryRow(ctx, query, params...).Scan(&version)
		if errors.Is(err, pgx.ErrNoRows) {
			// Not updated: a conflict or no such invoice.
			var stored int64
			err = s.db.QueryRow(ctx, s.sql.invoiceVersion, inv.ID).Scan(&stored)
			found = err == nil
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			return err
		}
		found = err == nil
		return err
	})
	switch {
	case err != nil:
		return err
	case version != 0:
		s.forget(inv.ID)
		inv.Version = version
		return nil
	case !found:
		return fmt.Errorf("pgstore: update invoice %s: %w", inv.ID, invoice.ErrNotFound)
	}
	return fmt.Errorf("pgstore: update invoice %q: version %d is not the stored one: %w",
		inv.ForeignID, inv.Version, invoice.ErrConflict)
}

// UpdateInvoices applies a batch of versioned updates in one statement:
// the invoice rows from typed arrays (UPDATE … FROM unnest(…) WHERE id,
// version, foreign_id and checkout_token match) and the outbox rows of
// those that matched (INSERT … FROM unnest(…) JOIN the updated rows). The
// columns written are the union of what changed in each update (as
// UpdateInvoice decides it), so one statement serves the batch. Updates
// that did not match are told apart (conflict, not found, keys changed) by
// one more query, on that path only. See invoice.Store.UpdateInvoices.
func (s *Store) UpdateInvoices(ctx context.Context, batch []invoice.InvoiceUpdate) ([]error, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(batch) == 0 {
		return nil, nil
	}
	var (
		argsOf = make([][]any, len(batch))
		cols   colMask
		ids    = make([]pgtype.UUID, len(batch))
		vers   = make([]int64, len(batch))
		fids   = make([]string, len(batch))
		toks   = make([]string, len(batch))
		seen   = make(map[uuid.UUID]struct{}, len(batch))
		o      outboxArrays
	)
	for i, u := range batch {
		inv := u.Invoice
		if inv == nil {
			return nil, fmt.Errorf("pgstore: update invoices: update %d has a nil invoice", i)
		}
		if _, dup := seen[inv.ID]; dup {
			return nil, fmt.Errorf("pgstore: update invoices: invoice %s appears twice", inv.ID)
		}
		seen[inv.ID] = struct{}{}
		args, err := invoiceArgs(inv)
		if err != nil {
			return nil, err
		}
		argsOf[i] = args
		if prev := s.seenArgs(inv.ID, inv.Version); prev != nil {
			cols |= changedColumns(prev, args, prev.unchangedJSON(inv))
		} else {
			cols = allColumns
		}
		ids[i], vers[i], fids[i], toks[i] = pgUUID(inv.ID), inv.Version, inv.ForeignID, inv.CheckoutToken
		rows, err := outboxRows(inv.ID, u.Outbox)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if _, dup := seen[r.id]; dup {
				return nil, fmt.Errorf("pgstore: update invoices: delivery %s appears twice", r.id)
			}
			seen[r.id] = struct{}{}
			o.add(inv.ID, r)
		}
	}
	cols &^= 1<<colForeignID | 1<<colCheckoutToken // matched, never written
	query := s.stmts.get(stmtKey{batch: true, cols: cols}, func() string { return buildBatchUpdate(s.ident, cols) })
	params := []any{ids, vers, fids, toks}
	for c := range updColumns {
		if cols&(1<<c) != 0 {
			params = append(params, columnArray(updColumns[c].kind, argsOf, c))
		}
	}
	params = append(params, o.params()...)

	updated, err := queryByID(ctx, s, "update invoices", query, params, func(rows pgx.Rows) (id uuid.UUID, v int64, err error) {
		err = rows.Scan(&id, &v)
		return id, v, err
	})
	if err != nil {
		return nil, err
	}
	errs := make([]error, len(batch))
	var missed []pgtype.UUID
	for _, u := range batch {
		if v, ok := updated[u.Invoice.ID]; ok {
			s.forget(u.Invoice.ID)
			u.Invoice.Version = v
			continue
		}
		missed = append(missed, pgUUID(u.Invoice.ID))
	}
	if len(missed) == 0 {
		return errs, nil
	}
	type storedKeys struct {
		version  int64
		fid, tok string
	}
	stored, err := queryByID(ctx, s, "update invoices", s.sql.invoiceKeys, []any{missed},
		func(rows pgx.Rows) (id uuid.UUID, k storedKeys, err error) {
			err = rows.Scan(&id, &k.version, &k.fid, &k.tok)
			return id, k, err
		})
	if err != nil {
		return nil, err
	}
	for i, u := range batch {
		inv := u.Invoice
		if _, ok := updated[inv.ID]; ok {
			continue
		}
		k, ok := stored[inv.ID]
		switch {
		case !ok:
			errs[i] = fmt.Errorf("pgstore: update invoice %s: %w", inv.ID, invoice.ErrNotFound)
		case k.version == inv.Version && (k.fid != inv.ForeignID || k.tok != inv.CheckoutToken):
			errs[i] = fmt.Errorf("pgstore: update invoice %s: a batch update may not change foreign_id or checkout token", inv.ID)
		default:
			errs[i] = fmt.Errorf("pgstore: update invoice %q: version %d is not the stored one: %w",
				inv.ForeignID, inv.Version, invoice.ErrConflict)
		}
	}
	return errs, nil
}

// columnArray collects column c of every update's arguments as the typed
// array parameter of its kind.
func columnArray(k colKind, argsOf [][]any, c int) any {
	switch k {
	case kTime:
		out := make([]pgtype.Timestamptz, len(argsOf))
		for i, args := range argsOf {
			if t, ok := args[c].(time.Time); ok {
				out[i] = pgtype.Timestamptz{Time: t, Valid: true}
			}
		}
		return out
	case kJSON:
		out := make([]pgtype.Text, len(argsOf))
		for i, args := range argsOf {
			if s, ok := args[c].(string); ok {
				out[i] = pgtype.Text{String: s, Valid: true}
			}
		}
		return out
	}
	out := make([]string, len(argsOf))
	for i, args := range argsOf {
		out[i], _ = args[c].(string)
	}
	return out
}

// outboxArrays are the outbox rows of a batch as one array per column.
type outboxArrays struct {
	id, invoiceID             []pgtype.UUID
	channel, state            []string
	seq                       []int64
	callback, notice, attempt []pgtype.Text
	payout                    []pgtype.Text
	createdAt, leaseUntil     []pgtype.Timestamptz
	next, readyAt             []time.Time
	leaseID                   []pgtype.UUID
}

func (o *outboxArrays) add(invoiceID uuid.UUID, r outboxRow) {
	o.id, o.invoiceID = append(o.id, pgUUID(r.id)), append(o.invoiceID, pgUUID(invoiceID))
	o.channel, o.seq = append(o.channel, r.channel), append(o.seq, r.seq)
	o.callback, o.notice, o.payout = append(o.callback, r.callback), append(o.notice, r.notice), append(o.payout, r.payout)
	o.state, o.createdAt = append(o.state, r.state), append(o.createdAt, r.createdAt)
	o.next, o.attempt = append(o.next, r.next), append(o.attempt, r.attempts)
	o.leaseID, o.leaseUntil = append(o.leaseID, r.leaseID), append(o.leaseUntil, r.leaseUntil)
	o.readyAt = append(o.readyAt, r.readyAt)
}

// params returns the 14 arrays in the order of deliveryInsertColumns.
// Empty arrays are passed as such, never as NULL.
func (o *outboxArrays) params() []any {
	return []any{nonNil(o.id), nonNil(o.invoiceID), nonNil(o.channel), nonNil(o.seq), nonNil(o.callback),
		nonNil(o.notice), nonNil(o.payout), nonNil(o.state), nonNil(o.createdAt), nonNil(o.next), nonNil(o.attempt),
		nonNil(o.leaseID), nonNil(o.leaseUntil), nonNil(o.readyAt)}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// SettleDeliveries records a batch of attempts in one statement: the
// delivery rows updated from typed arrays where id, lease and state
// 'pending' still match. Settlements that did not match are told apart
// (lease lost, not found) by one more query, on that path only. See
// invoice.Store.SettleDeliveries.
func (s *Store) SettleDeliveries(ctx context.Context, batch []invoice.Settlement) ([]error, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(batch) == 0 {
		return nil, nil
	}
	var (
		ids      = make([]pgtype.UUID, len(batch))
		leases   = make([]pgtype.UUID, len(batch))
		attempts = make([]string, len(batch))
		states   = make([]string, len(batch))
		nexts    = make([]pgtype.Timestamptz, len(batch))
		seen     = make(map[uuid.UUID]struct{}, len(batch))
	)
	for i, st := range batch {
		if _, dup := seen[st.ID]; dup {
			return nil, fmt.Errorf("pgstore: settle deliveries: delivery %s appears twice", st.ID)
		}
		seen[st.ID] = struct{}{}
		switch st.State {
		case invoice.DeliveryDelivered, invoice.DeliveryPending, invoice.DeliveryDead:
		default:
			return nil, fmt.Errorf("pgstore: settle deliveries: delivery %s: unknown state %d", st.ID, st.State)
		}
		states[i] = st.State.String()
		a, err := encodeAttempt(st.Attempt)
		if err != nil {
			return nil, err
		}
		ids[i], leases[i], attempts[i] = pgUUID(st.ID), pgUUID(st.LeaseID), string(a)
		if st.State == invoice.DeliveryPending {
			nexts[i] = pgtype.Timestamptz{Time: st.NextAttemptAt.UTC(), Valid: true}
		}
	}
	settled, err := queryByID(ctx, s, "settle deliveries", s.sql.settleDeliveries,
		[]any{ids, leases, attempts, states, nexts}, scanID)
	if err != nil {
		return nil, err
	}
	errs := make([]error, len(batch))
	var missed []pgtype.UUID
	for _, st := range batch {
		if _, ok := settled[st.ID]; !ok {
			missed = append(missed, pgUUID(st.ID))
		}
	}
	if len(missed) == 0 {
		return errs, nil
	}
	exists, err := queryByID(ctx, s, "settle deliveries", s.sql.deliveriesExist, []any{missed}, scanID)
	if err != nil {
		return nil, err
	}
	for i, st := range batch {
		if _, ok := settled[st.ID]; ok {
			continue
		}
		if _, ok := exists[st.ID]; ok {
			errs[i] = fmt.Errorf("pgstore: settle delivery %s: %w", st.ID, invoice.ErrLeaseLost)
		} else {
			errs[i] = fmt.Errorf("pgstore: settle delivery %s: %w", st.ID, invoice.ErrNotFound)
		}
	}
	return errs, nil
}

// queryByID runs a query (retried as every store operation is) whose rows
// start with an ID, and returns what scan reads of each row by that ID.
func queryByID[V any](ctx context.Context, s *Store, what, query string, params []any,
	scan func(pgx.Rows) (uuid.UUID, V, error)) (map[uuid.UUID]V, error) {
	var out map[uuid.UUID]V
	err := s.run(ctx, what, func(ctx context.Context) error {
		out = make(map[uuid.UUID]V)
		rows, err := s.db.Query(ctx, query, params...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			id, v, err := scan(rows)
			if err != nil {
				return err
			}
			out[id] = v
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// scanID reads a row of just an ID, for queryByID.
func scanID(rows pgx.Rows) (id uuid.UUID, _ struct{}, err error) {
	err = rows.Scan(&id)
	return id, struct{}{}, err
}
