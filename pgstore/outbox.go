package pgstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	invoice "github.com/cryptoinvoice/invoice"
)

func channelName(ch invoice.Channel) (string, error) {
	switch ch {
	case invoice.ChannelMerchant, invoice.ChannelCustomer, invoice.ChannelPayout:
		return ch.String(), nil
	}
	return "", fmt.Errorf("pgstore: unknown delivery channel %d: %w", ch, invoice.ErrUnknownValue)
}

func parseChannel(s string) (invoice.Channel, error) {
	switch s {
	case "merchant":
		return invoice.ChannelMerchant, nil
	case "customer":
		return invoice.ChannelCustomer, nil
	case "payout":
		return invoice.ChannelPayout, nil
	}
	return 0, fmt.Errorf("pgstore: unknown delivery channel %q: %w", s, invoice.ErrUnknownValue)
}

func stateName(st invoice.DeliveryState) (string, error) {
	switch st {
	case invoice.DeliveryPending, invoice.DeliveryDelivered, invoice.DeliveryDead:
		return st.String(), nil
	}
	return "", fmt.Errorf("pgstore: unknown delivery state %d: %w", st, invoice.ErrUnknownValue)
}

func parseState(s string) (invoice.DeliveryState, error) {
	for _, st := range []invoice.DeliveryState{invoice.DeliveryPending, invoice.DeliveryDelivered, invoice.DeliveryDead} {
		if st.String() == s {
			return st, nil
		}
	}
	return 0, fmt.Errorf("pgstore: unknown delivery state %q: %w", s, invoice.ErrUnknownValue)
}

// scanDelivery reads one row of deliveryColumns, plus extra destinations.
func scanDelivery(row pgx.Row, extra ...any) (*invoice.Delivery, error) {
	var (
		d                         invoice.Delivery
		channel, state            string
		callback, notice          []byte
		payout                    []byte
		attempts                  []byte
		created, next, leaseUntil pgtype.Timestamptz
		leaseID                   *uuid.UUID
	)
	dest := append([]any{&d.ID, &d.InvoiceID, &channel, &d.Seq, &callback, &notice, &state, &created,
		&next, &attempts, &leaseID, &leaseUntil, &payout}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	var err error
	if d.Channel, err = parseChannel(channel); err != nil {
		return nil, undecodable("delivery", d.ID, err)
	}
	if d.State, err = parseState(state); err != nil {
		return nil, undecodable("delivery", d.ID, err)
	}
	if d.Callback, err = decodeCallback(callback); err != nil {
		return nil, undecodable("delivery", d.ID, err)
	}
	if d.Notice, err = decodeNotice(notice); err != nil {
		return nil, undecodable("delivery", d.ID, err)
	}
	if d.Payout, err = decodePayout(payout); err != nil {
		return nil, undecodable("delivery", d.ID, err)
	}
	if d.Attempts, err = decodeAttempts(attempts); err != nil {
		return nil, undecodable("delivery", d.ID, err)
	}
	var tsErr error
	d.CreatedAt, d.NextAttemptAt = fromTS("created_at", created, &tsErr), fromTS("next_attempt_at", next, &tsErr)
	d.LeaseUntil = fromTS("lease_until", leaseUntil, &tsErr)
	if tsErr != nil {
		return nil, undecodable("delivery", d.ID, tsErr)
	}
	if leaseID != nil {
		d.LeaseID = *leaseID
	}
	return &d, nil
}

// ClaimDeliveries returns up to limit pending deliveries whose
// NextAttemptAt is at or before now, each the first pending delivery of its
// invoice and channel (by Seq, then ID) and none held by an unexpired
// lease, earliest due first. Each gets a new random LeaseID and
// LeaseUntil = now+lease. A held delivery stays pending, so the deliveries
// behind it are not returned until it is settled or its lease runs out.
// Rows are locked with FOR UPDATE SKIP LOCKED: concurrent claims never
// wait for each other nor return the same delivery.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*invoice.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	type claimed struct {
		d       *invoice.Delivery
		readyAt time.Time
	}
	// As ClaimDueInvoices: undecodable rows are set aside and the claim
	// repeated for as many as they took.
	var out []claimed
	for want := limit; want > 0; {
		var (
			got []claimed
			bad []*RowError
		)
		err := s.run(ctx, "claim deliveries", func(ctx context.Context) error {
			got, bad = got[:0], bad[:0]
			rows, err := s.db.Query(ctx, s.sql.claimDeliveries, now.UTC(), now.Add(lease).UTC(), want)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var c claimed
				if c.d, err = scanDelivery(rows, &c.readyAt); err != nil {
					if re, ok := rowError(err); ok {
						bad = append(bad, re)
						continue
					}
					return err
				}
				got = append(got, c)
			}
			return rows.Err()
		})
		if err != nil {
			if len(out) > 0 {
				break
			}
			return nil, err
		}
		out = append(out, got...)
		s.setAside(ctx, bad)
		if len(bad) == 0 || len(got)+len(bad) < want {
			break
		}
		want -= len(got)
	}
	slices.SortFunc(out, func(a, b claimed) int {
		return cmp.Or(a.readyAt.Compare(b.readyAt), cmp.Compare(a.d.Seq, b.d.Seq), compareIDs(a.d.ID, b.d.ID))
	})
	ds := make([]*invoice.Delivery, len(out))
	for i, c := range out {
		ds[i] = c.d
	}
	return ds, nil
}

func compareIDs(a, b uuid.UUID) int {
	for i := range a {
		if c := cmp.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

// AckDelivery marks a held delivery delivered, appends the attempt and
// releases the lease. The error matches invoice.ErrLeaseLost if leaseID no
// longer holds it (it was claimed again after the lease ran out, or was
// already settled), invoice.ErrNotFound if there is no such delivery.
func (s *Store) AckDelivery(ctx context.Context, id, leaseID uuid.UUID, a invoice.Attempt) error {
	att, err := encodeAttempt(a)
	if err != nil {
		return err
	}
	return s.settle(ctx, "ack delivery", id, s.sql.ackDelivery, id, leaseID, string(att))
}

// RescheduleDelivery appends a failed attempt and releases the lease: the
// delivery stays pending with NextAttemptAt = next, or with dead set
// becomes invoice.DeliveryDead (and no longer blocks the deliveries after
// it). Errors as AckDelivery.
func (s *Store) RescheduleDelivery(ctx context.Context, id, leaseID uuid.UUID, a invoice.Attempt, next time.Time, dead bool) error {
	att, err := encodeAttempt(a)
	if err != nil {
		return err
	}
	return s.settle(ctx, "reschedule delivery", id, s.sql.rescheduleDelivery, id, leaseID, string(att), next.UTC(), dead)
}

func (s *Store) settle(ctx context.Context, what string, id uuid.UUID, query string, args ...any) error {
	var done, exists bool
	err := s.run(ctx, what, func(ctx context.Context) error {
		return s.db.QueryRow(ctx, query, args...).Scan(&done, &exists)
	})
	switch {
	case err != nil:
		return err
	case done:
		return nil
	case !exists:
		return fmt.Errorf("pgstore: %s %s: %w", what, id, invoice.ErrNotFound)
	}
	return fmt.Errorf("pgstore: %s %s: %w", what, id, invoice.ErrLeaseLost)
}

// GetDelivery returns one delivery with its attempts, or an error matching
// invoice.ErrNotFound.
func (s *Store) GetDelivery(ctx context.Context, id uuid.UUID) (*invoice.Delivery, error) {
	return queryOne(ctx, s, "get delivery", s.sql.getDelivery, id,
		func(row pgx.Row) (*invoice.Delivery, error) { return scanDelivery(row) })
}

// ListDeliveries returns up to q.Limit deliveries matching q in ascending
// ID order after q.After. A Limit of zero or less returns nothing.
func (s *Store) ListDeliveries(ctx context.Context, q invoice.DeliveryQuery) ([]*invoice.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if q.Limit <= 0 {
		return nil, nil
	}
	variant, args := 0, []any{q.After, q.Limit}
	if q.InvoiceID != uuid.Nil {
		variant |= 1
		args = append(args, q.InvoiceID)
	}
	if q.State != 0 {
		state, err := stateName(q.State)
		if err != nil {
			return nil, err
		}
		variant |= 2
		args = append(args, state)
	}
	return listPage(ctx, s, "list deliveries", s.sql.listDeliveries[variant], args, q.After, q.Limit,
		func(r pgx.Row) (*invoice.Delivery, error) { return scanDelivery(r) },
		func(d *invoice.Delivery) uuid.UUID { return d.ID })
}

// RedeliverDelivery makes a dead or delivered delivery pending again with
// NextAttemptAt = now, keeping its ID and attempts; it takes its place in
// its invoice and channel's order by Seq again. A delivery that is still
// pending is left as it is. An unknown ID yields an error matching
// invoice.ErrNotFound.
func (s *Store) RedeliverDelivery(ctx context.Context, id uuid.UUID, now time.Time) error {
	var exists bool
	err := s.run(ctx, "redeliver delivery", func(ctx context.Context) error {
		return s.db.QueryRow(ctx, s.sql.redeliverDelivery, id, now.UTC()).Scan(&exists)
	})
	if err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("pgstore: redeliver delivery %s: %w", id, invoice.ErrNotFound)
	}
	return nil
}
