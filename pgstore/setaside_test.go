package pgstore_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	invoice "github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/pgstore"
)

// breakRow damages one stored row the way a hand-written UPDATE, an older
// version or a bug could: values this Store cannot decode.
func breakRow(t *testing.T, s *pgstore.Store, table, set string, id any) {
	t.Helper()
	_, err := s.Pool().Exec(bg(), "UPDATE "+pgx.Identifier{s.Schema(), table}.Sanitize()+" SET "+set+" WHERE id = $1", id)
	require.NoError(t, err)
}

// damages are the ways an invoice row is broken, one per bad invoice.
var damages = []string{
	"amount = 1e-10050",                         // a decimal beyond what decimal parses
	`transactions = '[{"id": 1, "amount": 5}]'`, // a number where an exact string belongs
	"quotes = '[{\"rate\": \"x\"}]'",            // not a decimal at all
	"fixed_at = 'infinity'",                     // a time pgx cannot scan
}

func TestUndecodableInvoicesDoNotStallTheSweep(t *testing.T) {
	var logs bytes.Buffer
	s := newStore(t, pgstore.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	clock := invoicetest.NewClock(invoicetest.Epoch)
	h := newEngine(t, s, clock, func(c *invoice.Config) { c.SweepBatch = 5 })
	var bad []*invoice.Invoice
	for i := range 10 + len(damages) {
		inv, err := h.Engine.Create(bg(), timerRequest(fmt.Sprint("o-", i)))
		require.NoError(t, err)
		if i%3 == 0 && len(bad) < len(damages) {
			breakRow(t, s, "invoices", damages[len(bad)], inv.ID)
			bad = append(bad, inv)
		}
	}
	require.Len(t, bad, len(damages))
	clock.Advance(time.Hour)
	failed, err := h.Engine.Sweep(bg())
	require.NoError(t, err)
	assert.Equal(t, 10, failed, "every healthy overdue invoice expires")
	for round := range 3 { // later rounds find nothing, and do not fail
		clock.Advance(2 * time.Minute)
		n, err := h.Engine.Sweep(bg())
		require.NoError(t, err, "round %d", round)
		assert.Zero(t, n)
	}

	setAside, _ := s.UndecodableCounts()
	assert.Equal(t, int64(len(damages)), setAside, "counted once each: set aside, not claimed again")
	rows, err := s.SetAside(bg(), 0)
	require.NoError(t, err)
	require.Len(t, rows, len(damages))
	for _, r := range rows {
		assert.Equal(t, "invoice", r.Kind)
		assert.NotEmpty(t, r.Error)
	}
	assert.Contains(t, logs.String(), "undecodable row set aside")
	_, err = s.GetInvoice(bg(), bad[0].ID)
	assert.ErrorIs(t, err, pgstore.ErrUndecodable, "reading it says what is wrong")

	// Listing serves every other invoice, in pages, and skips the bad ones.
	var listed []string
	cursor := ""
	for {
		page, err := h.Engine.List(bg(), invoice.ListOptions{Limit: 3, Cursor: cursor})
		require.NoError(t, err)
		for _, inv := range page.Invoices {
			listed = append(listed, inv.ForeignID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	assert.Len(t, listed, 10)
	_, skipped := s.UndecodableCounts()
	assert.Positive(t, skipped)

	// Repaired and retried: the next sweep expires it.
	_, err = s.Pool().Exec(bg(), "UPDATE "+pgx.Identifier{s.Schema(), "invoices"}.Sanitize()+
		" SET amount = 100 WHERE id = $1", bad[0].ID)
	require.NoError(t, err)
	require.NoError(t, s.RetrySetAside(bg(), bad[0].ID))
	n, err := h.Engine.Sweep(bg())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.ErrorIs(t, s.RetrySetAside(bg(), bad[0].ID), invoice.ErrNotFound, "no longer set aside")
	rows, err = s.SetAside(bg(), 0)
	require.NoError(t, err)
	assert.Len(t, rows, len(damages)-1)
}

func TestUndecodableDeliveriesDoNotStallTheOthers(t *testing.T) {
	s := newStore(t)
	clock := invoicetest.NewClock(invoicetest.Epoch)
	h := newEngine(t, s, clock, func(c *invoice.Config) { c.DeliveryBatch = 4 })
	for i := range 11 {
		_, err := h.Engine.Create(bg(), timerRequest(fmt.Sprint("o-", i)))
		require.NoError(t, err)
		_, err = h.Engine.Cancel(bg(), fmt.Sprint("o-", i))
		require.NoError(t, err)
	}
	ds, err := h.Engine.Deliveries(bg(), "o-5")
	require.NoError(t, err)
	require.Len(t, ds, 1)
	breakRow(t, s, "deliveries", `callback = '{"currency_sent": {"amount": 5}}'`, ds[0].ID)

	for range 3 {
		_, err := h.Engine.DeliverDue(bg())
		require.NoError(t, err)
		clock.Advance(3 * time.Minute)
	}
	for i := range 11 {
		got := h.Merchant.Statuses(fmt.Sprint("o-", i))
		if i == 5 {
			assert.Empty(t, got)
			continue
		}
		assert.Equal(t, []invoice.Status{invoice.StatusFailed}, got, "o-%d delivered", i)
	}
	rows, err := s.SetAside(bg(), 0)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, pgstore.SetAsideRow{Kind: "delivery", ID: ds[0].ID, Error: rows[0].Error}, rows[0])
	assert.Contains(t, rows[0].Error, "decimal")

	// A listing of deliveries skips it.
	dead, err := h.Engine.DeadDeliveries(bg(), [16]byte{}, 100)
	require.NoError(t, err)
	assert.Empty(t, dead)
	all, err := s.ListDeliveries(bg(), invoice.DeliveryQuery{Limit: 100})
	require.NoError(t, err)
	assert.Len(t, all, 10)
	_, err = s.GetDelivery(bg(), ds[0].ID)
	assert.True(t, errors.Is(err, pgstore.ErrUndecodable), "%v", err)
}

// TestUndecodableRowDoesNotHideAwaitingPayouts: the payout system's
// listing skips a broken row and still pages through every other claim.
func TestUndecodableRowDoesNotHideAwaitingPayouts(t *testing.T) {
	s := newStore(t)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var ids []uuid.UUID
	for i := range 7 {
		id := uuid.Must(uuid.NewV7())
		inv := &invoice.Invoice{ID: id, ForeignID: fmt.Sprint("payout-", i), CheckoutToken: fmt.Sprintf("PT%024d", i),
			Type: invoice.TypeTimerCurrency, Title: "Order", Amount: decimal.RequireFromString("10.00"), Currency: "EUR",
			Status: invoice.StatusFailed, CreatedAt: now, UpdatedAt: now,
			RefundClaims: []invoice.RefundClaim{{ID: uuid.Must(uuid.NewV7()), Amount: decimal.RequireFromString("0.001"),
				Currency: "BTC", Reason: invoice.ReasonPaidLess, Status: invoice.RefundRedeemed, Destination: "bc1qdest",
				CreatedAt: now, RedeemedAt: now}}}
		require.NoError(t, s.CreateInvoice(bg(), inv))
		ids = append(ids, id)
	}
	breakRow(t, s, "invoices", "amount = 1e-10050", ids[2])

	var listed []uuid.UUID
	for after := uuid.Nil; ; {
		page, err := s.ListAwaitingPayout(bg(), after, 2)
		require.NoError(t, err)
		for _, inv := range page {
			listed = append(listed, inv.ID)
		}
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1].ID
	}
	want := append(append([]uuid.UUID(nil), ids[:2]...), ids[3:]...)
	assert.Equal(t, want, listed, "every healthy claim, in order; the broken row skipped")
	_, skipped := s.UndecodableCounts()
	assert.Positive(t, skipped)
}

// TestSetAsideUsesIndexes: listing the set-aside rows reads an index
// (invoices: the partial index of migration 0004; deliveries: the ready
// index), never every invoice or delivery.
func TestSetAsideUsesIndexes(t *testing.T) {
	s := newStore(t)
	ident := pgx.Identifier{s.Schema()}.Sanitize()
	_, err := s.Pool().Exec(bg(), `INSERT INTO `+ident+`.invoices (id, foreign_id, type, payment_mode, amount,
		sender_amount, rate, status, version, deadline, sweep_at)
	SELECT gen_random_uuid(), 'bulk-' || i, 'timer_currency', 'fill_or_kill', 10, 0.001, 10000, 'pending', 1,
		now(), CASE WHEN i % 500 = 0 THEN NULL ELSE now() END
	FROM generate_series(1, 5000) i`)
	require.NoError(t, err)
	_, err = s.Pool().Exec(bg(), `INSERT INTO `+ident+`.deliveries (id, invoice_id, channel, seq, state,
		next_attempt_at, ready_at)
	SELECT gen_random_uuid(), i.id, 'merchant', 1, 'pending', now(), now() FROM `+ident+`.invoices i`)
	require.NoError(t, err)
	_, err = s.Pool().Exec(bg(), "ANALYZE "+ident+".invoices; ANALYZE "+ident+".deliveries")
	require.NoError(t, err)

	invoicesSQL, deliveriesSQL := pgstore.SetAsideSQL(s)
	for _, c := range []struct{ sql, index string }{
		{invoicesSQL, "invoices_set_aside_idx"},
		{deliveriesSQL, "deliveries_ready_idx"},
	} {
		var plan []string
		rows, err := s.Pool().Query(bg(), "EXPLAIN "+c.sql, 100)
		require.NoError(t, err)
		for rows.Next() {
			var line string
			require.NoError(t, rows.Scan(&line))
			plan = append(plan, line)
		}
		require.NoError(t, rows.Err())
		require.Contains(t, strings.Join(plan, "\n"), c.index, "plan:\n%s", strings.Join(plan, "\n"))
	}
}
