package pgstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	invoice "github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/pgstore"
)

var base = time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func bg() context.Context { return context.Background() }

func newID(t testing.TB) uuid.UUID {
	id, err := uuid.NewV7()
	require.NoError(t, err)
	return id
}

func newInvoice(t testing.TB, foreignID string) *invoice.Invoice {
	return &invoice.Invoice{
		ID: newID(t), ForeignID: foreignID, Type: invoice.TypeNoTimer, Title: "Order",
		Amount: dec("100.00"), Currency: "EUR", Status: invoice.StatusCreated, CreatedAt: base, UpdatedAt: base,
	}
}

func newDelivery(t testing.TB, inv *invoice.Invoice, ch invoice.Channel, seq int64, at time.Time) *invoice.Delivery {
	d := &invoice.Delivery{
		ID: newID(t), InvoiceID: inv.ID, Channel: ch, Seq: seq, State: invoice.DeliveryPending,
		CreatedAt: at, NextAttemptAt: at,
	}
	if ch == invoice.ChannelMerchant {
		d.Callback = &invoice.Callback{ID: inv.Number, ForeignID: inv.ForeignID, Type: "invoice",
			CurrencySent:     invoice.CallbackSent{Amount: invoice.Amount{Decimal: dec("0.00100000")}, RemainingAmount: invoice.Amount{Decimal: dec("0")}},
			CurrencyReceived: invoice.CallbackReceived{Currency: "EUR", Amount: invoice.Amount{Decimal: dec("1.50")}},
			Transactions:     []invoice.CallbackTransaction{}, Fees: []invoice.CallbackFee{}, Status: inv.Status}
	} else {
		d.Notice = &invoice.RefundNotice{InvoiceID: inv.ID, ForeignID: inv.ForeignID, Amount: dec("0.50"), Currency: "BTC", Token: "tok"}
	}
	return d
}

func requireDecimal(t *testing.T, want string, got decimal.Decimal) {
	t.Helper()
	w := dec(want)
	require.Equal(t, w.Exponent(), got.Exponent(), "exponent of %s (want %s)", got, want)
	require.Equal(t, w.Coefficient().String(), got.Coefficient().String(), "coefficient of %s (want %s)", got, want)
}

func TestNewValidatesSchema(t *testing.T) {
	pool := requireDB(t)
	for _, bad := range []string{"", string(make([]byte, 64)), "a\x00b"} {
		_, err := pgstore.New(pool, pgstore.WithSchema(bad))
		require.Error(t, err, "%q", bad)
	}
	_, err := pgstore.New(nil)
	require.Error(t, err)
	// Odd but valid names are quoted, not interpolated.
	s := newStore(t)
	odd := newStoreOn(t, requireDB(t), s.Schema()+`"; DROP TABLE x; --`)
	t.Cleanup(func() { _, _ = pool.Exec(bg(), `DROP SCHEMA IF EXISTS "`+s.Schema()+`""; DROP TABLE x; --" CASCADE`) })
	require.NoError(t, odd.CreateInvoice(bg(), newInvoice(t, "odd")))
}

func TestRoundTripExact(t *testing.T) {
	s := newStore(t)
	inv := newInvoice(t, "full")
	inv.Amount = dec("1.50")
	inv.SenderAmount = dec("0.123456789012345678")
	inv.Rate = dec("1000000000000000000.000000000000000001")
	inv.Quotes = []invoice.Quote{{Currency: "USDT", Rate: dec("0.999800"), Amount: dec("100")}}
	inv.Transactions = []invoice.Transaction{{Number: 1_000_001, TxID: "a", Currency: "BTC", Amount: dec("0.100000000000000000"),
		Status: invoice.TxConfirmed, Accounted: true, SeenAt: base.Add(time.Microsecond)}}
	inv.RefundClaims = []invoice.RefundClaim{{ID: newID(t), Amount: dec("0.00"), TxIDs: []string{}, Status: invoice.RefundOpen, CreatedAt: base}}
	inv.FixedAt = time.Date(1999, 12, 31, 23, 59, 59, 999999000, time.UTC)
	inv.Deadline = base.Add(time.Hour)
	require.NoError(t, s.CreateInvoice(bg(), inv))
	require.Equal(t, int64(1), inv.Version)

	got, err := s.GetInvoice(bg(), inv.ID)
	require.NoError(t, err)
	requireDecimal(t, "1.50", got.Amount)
	requireDecimal(t, "0.123456789012345678", got.SenderAmount)
	requireDecimal(t, "1000000000000000000.000000000000000001", got.Rate)
	requireDecimal(t, "0.999800", got.Quotes[0].Rate)
	requireDecimal(t, "100", got.Quotes[0].Amount)
	requireDecimal(t, "0.100000000000000000", got.Transactions[0].Amount)
	requireDecimal(t, "0.00", got.RefundClaims[0].Amount)
	require.NotNil(t, got.RefundClaims[0].TxIDs, "empty list stays empty, not nil")
	require.Equal(t, time.UTC, got.FixedAt.Location())
	require.True(t, inv.FixedAt.Equal(got.FixedAt))
	require.True(t, got.ExpiresAt.IsZero())
	require.Equal(t, inv.Transactions[0].SeenAt, got.Transactions[0].SeenAt)
	require.True(t, got.Transactions[0].UpdatedAt.IsZero())

	// The whole value, through JSON (which compares times and decimals by
	// their text).
	want, _ := json.Marshal(inv)
	have, _ := json.Marshal(got)
	require.JSONEq(t, string(want), string(have))

	// Minimal: zero decimals and times, nil lists.
	min := &invoice.Invoice{ID: newID(t), ForeignID: "min", Type: invoice.TypeTimer, Status: invoice.StatusFailed}
	require.NoError(t, s.CreateInvoice(bg(), min))
	got, err = s.GetInvoice(bg(), min.ID)
	require.NoError(t, err)
	require.True(t, got.CreatedAt.IsZero())
	require.Nil(t, got.Quotes)
	require.Nil(t, got.Transactions)
	require.True(t, got.Amount.IsZero())
}

func TestInvalidEnumsRefused(t *testing.T) {
	s := newStore(t)
	inv := newInvoice(t, "bad")
	inv.Status = 0
	require.ErrorIs(t, s.CreateInvoice(bg(), inv), invoice.ErrUnknownValue)
	inv.Status, inv.Type = invoice.StatusCreated, 9
	require.ErrorIs(t, s.CreateInvoice(bg(), inv), invoice.ErrUnknownValue)
}

func TestCreateDuplicateAndNotFound(t *testing.T) {
	s := newStore(t)
	a := newInvoice(t, "dup")
	require.NoError(t, s.CreateInvoice(bg(), a))
	b := newInvoice(t, "dup")
	err := s.CreateInvoice(bg(), b)
	require.ErrorIs(t, err, invoice.ErrDuplicate)
	require.Zero(t, b.Number)
	_, err = s.GetInvoice(bg(), b.ID)
	require.ErrorIs(t, err, invoice.ErrNotFound)
	_, err = s.GetInvoiceByForeignID(bg(), "nope")
	require.ErrorIs(t, err, invoice.ErrNotFound)

	// Changing a foreign_id to a taken one is a duplicate too.
	c := newInvoice(t, "other")
	require.NoError(t, s.CreateInvoice(bg(), c))
	c.ForeignID = "dup"
	require.ErrorIs(t, s.UpdateInvoice(bg(), c, nil), invoice.ErrDuplicate)
}

func TestUpdateConflictNotFoundAndOutbox(t *testing.T) {
	s := newStore(t)
	inv := newInvoice(t, "u")
	require.NoError(t, s.CreateInvoice(bg(), inv))
	stale := inv.Clone()

	inv.Title = "v2"
	d1 := newDelivery(t, inv, invoice.ChannelMerchant, 1, base)
	require.NoError(t, s.UpdateInvoice(bg(), inv, []*invoice.Delivery{d1}))
	require.Equal(t, int64(2), inv.Version)

	stale.Title = "stale"
	d2 := newDelivery(t, stale, invoice.ChannelMerchant, 2, base)
	require.ErrorIs(t, s.UpdateInvoice(bg(), stale, []*invoice.Delivery{d2}), invoice.ErrConflict)
	require.Equal(t, int64(1), stale.Version)
	_, err := s.GetDelivery(bg(), d2.ID)
	require.ErrorIs(t, err, invoice.ErrNotFound)

	ghost := newInvoice(t, "ghost")
	ghost.Version = 1
	err = s.UpdateInvoice(bg(), ghost, []*invoice.Delivery{newDelivery(t, ghost, invoice.ChannelMerchant, 1, base)})
	require.ErrorIs(t, err, invoice.ErrNotFound)
	require.NotErrorIs(t, err, invoice.ErrConflict)

	// A duplicate delivery ID fails the whole update: the invoice row is
	// not changed either.
	inv.Title = "v3"
	err = s.UpdateInvoice(bg(), inv, []*invoice.Delivery{d1})
	require.Error(t, err)
	got, err := s.GetInvoice(bg(), inv.ID)
	require.NoError(t, err)
	require.Equal(t, "v2", got.Title)
	require.Equal(t, int64(2), got.Version)

	// Deliveries round-trip exactly, callback amounts included.
	gd, err := s.GetDelivery(bg(), d1.ID)
	require.NoError(t, err)
	requireDecimal(t, "0.00100000", gd.Callback.CurrencySent.Amount.Decimal)
	requireDecimal(t, "1.50", gd.Callback.CurrencyReceived.Amount.Decimal)
	require.NotNil(t, gd.Callback.Transactions)
	require.NotNil(t, gd.Callback.Fees)
	wj, _ := json.Marshal(d1)
	gj, _ := json.Marshal(gd)
	require.JSONEq(t, string(wj), string(gj))
}

func TestUpdateConcurrentSameVersion(t *testing.T) {
	s := newStore(t)
	inv := newInvoice(t, "race")
	require.NoError(t, s.CreateInvoice(bg(), inv))
	const n = 30
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for i := range n {
		wg.Go(func() {
			cp := inv.Clone()
			cp.Title = fmt.Sprint(i)
			err := s.UpdateInvoice(bg(), cp, []*invoice.Delivery{newDelivery(t, cp, invoice.ChannelMerchant, 1, base)})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
			} else if !errors.Is(err, invoice.ErrConflict) {
				t.Errorf("writer %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	require.Equal(t, 1, wins)
	ds, err := s.ListDeliveries(bg(), invoice.DeliveryQuery{InvoiceID: inv.ID, Limit: 100})
	require.NoError(t, err)
	require.Len(t, ds, 1)
}

func TestClaimDueInvoices(t *testing.T) {
	s := newStore(t)
	var invs []*invoice.Invoice
	for i := range 5 {
		inv := newInvoice(t, fmt.Sprint("due-", i))
		inv.Deadline = base.Add(time.Duration(4-i) * time.Minute) // reverse order
		require.NoError(t, s.CreateInvoice(bg(), inv))
		invs = append(invs, inv)
	}
	final := newInvoice(t, "final")
	final.Deadline, final.Status = base, invoice.StatusConfirmed
	require.NoError(t, s.CreateInvoice(bg(), final))

	now := base.Add(3 * time.Minute) // invoices 1..4 are due
	got, err := s.ClaimDueInvoices(bg(), now, time.Minute, 2)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{invs[4].ID, invs[3].ID}, idsOf(got), "deadline order")
	requireStored(t, s, got)
	got, err = s.ClaimDueInvoices(bg(), now, time.Minute, 10)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{invs[2].ID, invs[1].ID}, idsOf(got), "claimed ones are skipped")
	got, err = s.ClaimDueInvoices(bg(), now.Add(59*time.Second), time.Minute, 10)
	require.NoError(t, err)
	require.Empty(t, got, "leases hold")

	// An update releases the hold (and sets the new deadline); the claimed
	// copy has the new version and can be updated as it is.
	cur, err := s.GetInvoice(bg(), invs[4].ID)
	require.NoError(t, err)
	require.NoError(t, s.UpdateInvoice(bg(), cur, nil))
	got, err = s.ClaimDueInvoices(bg(), now, time.Minute, 10)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{invs[4].ID}, idsOf(got))
	require.Equal(t, int64(2), got[0].Version)
	requireStored(t, s, got)
	got[0].Error = "swept"
	require.NoError(t, s.UpdateInvoice(bg(), got[0], nil), "no read needed after the claim")

	// Expired leases are claimable again.
	got, err = s.ClaimDueInvoices(bg(), now.Add(time.Minute), time.Minute, 10)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{invs[4].ID, invs[3].ID, invs[2].ID, invs[1].ID, invs[0].ID}, idsOf(got),
		"sweep keys all equal (invs[0]'s deadline, the others' lease ends): by deadline")
	requireStored(t, s, got)

	// Final invoices leave the sweep.
	cur, err = s.GetInvoice(bg(), invs[1].ID)
	require.NoError(t, err)
	cur.Status = invoice.StatusFailed
	require.NoError(t, s.UpdateInvoice(bg(), cur, nil))
	got, err = s.ClaimDueInvoices(bg(), now.Add(time.Hour), time.Minute, 10)
	require.NoError(t, err)
	ids := idsOf(got)
	require.NotContains(t, ids, invs[1].ID)
	require.NotContains(t, ids, final.ID)
	require.Len(t, ids, 4)
}

// TestClaimDueInvoicesDecodesAsGet: a claimed copy of an invoice with
// every field set is exactly what GetInvoice returns, Version included.
func TestClaimDueInvoicesDecodesAsGet(t *testing.T) {
	s := newStore(t)
	inv := newInvoice(t, "full")
	inv.EndUserReference, inv.Description, inv.Email = "u-1", "desc", "c@example.com"
	inv.Type, inv.Mode, inv.Status = invoice.TypeTimerCurrency, invoice.ModeGoodUntilExpired, invoice.StatusPending
	inv.SenderCurrency, inv.SenderAmount, inv.Rate = "BTC", dec("0.123456789012345678"), dec("60000.0")
	inv.Quotes = []invoice.Quote{{Currency: "USDT", Rate: dec("0.999800"), Amount: dec("100")}}
	inv.Transactions = []invoice.Transaction{{Number: 1_000_001, TxID: "a", Currency: "BTC", Amount: dec("0.100000000000000000"),
		Status: invoice.TxConfirmed, Accounted: true, SeenAt: base.Add(time.Microsecond)}}
	inv.RefundClaims = []invoice.RefundClaim{{ID: newID(t), Amount: dec("0.00"), TxIDs: []string{}, Status: invoice.RefundOpen, CreatedAt: base}}
	inv.FixedAt, inv.ExpiresAt, inv.Deadline = base, base.Add(15*time.Minute), base.Add(15*time.Minute)
	inv.Deposit = invoice.Address{Address: "addr", Tag: "tag"}
	inv.URLSuccess, inv.URLFailed, inv.Error = "https://s", "https://f", "e"
	require.NoError(t, s.CreateInvoice(bg(), inv))
	require.NoError(t, s.UpdateInvoice(bg(), inv, nil))

	got, err := s.ClaimDueInvoices(bg(), inv.Deadline, time.Minute, 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, int64(2), got[0].Version, "claiming keeps the version")
	requireStored(t, s, got)
	requireDecimal(t, "0.123456789012345678", got[0].SenderAmount)
	requireDecimal(t, "60000.0", got[0].Rate)
	want, _ := json.Marshal(inv)
	have, _ := json.Marshal(got[0])
	require.JSONEq(t, string(want), string(have))
}

func idsOf(invs []*invoice.Invoice) []uuid.UUID {
	ids := make([]uuid.UUID, len(invs))
	for i, inv := range invs {
		ids[i] = inv.ID
	}
	return ids
}

// requireStored checks that each claimed copy is what GetInvoice returns.
func requireStored(t *testing.T, s *pgstore.Store, claimed []*invoice.Invoice) {
	t.Helper()
	for _, c := range claimed {
		stored, err := s.GetInvoice(bg(), c.ID)
		require.NoError(t, err)
		require.Equal(t, stored, c)
	}
}

func TestClaimDueInvoicesConcurrent(t *testing.T) {
	s := newStore(t)
	const n = 300
	for i := range n {
		inv := newInvoice(t, fmt.Sprint("c-", i))
		inv.Deadline = base
		require.NoError(t, s.CreateInvoice(bg(), inv))
	}
	var (
		mu   sync.Mutex
		seen = map[uuid.UUID]int{}
		wg   sync.WaitGroup
	)
	for range 6 {
		wg.Go(func() {
			for {
				invs, err := s.ClaimDueInvoices(bg(), base, time.Hour, 7)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, inv := range invs {
					seen[inv.ID]++
				}
				mu.Unlock()
				if len(invs) == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	require.Len(t, seen, n)
	for id, c := range seen {
		require.Equal(t, 1, c, "invoice %s claimed %d times", id, c)
	}
}

func TestOutboxHeadOfLine(t *testing.T) {
	s := newStore(t)
	inv := newInvoice(t, "o")
	require.NoError(t, s.CreateInvoice(bg(), inv))
	m1 := newDelivery(t, inv, invoice.ChannelMerchant, 1, base)
	c1 := newDelivery(t, inv, invoice.ChannelCustomer, 2, base)
	m2 := newDelivery(t, inv, invoice.ChannelMerchant, 3, base)
	require.NoError(t, s.UpdateInvoice(bg(), inv, []*invoice.Delivery{m1, c1, m2}))

	got, err := s.ClaimDeliveries(bg(), base, time.Minute, 10)
	require.NoError(t, err)
	require.ElementsMatch(t, []uuid.UUID{m1.ID, c1.ID}, []uuid.UUID{got[0].ID, got[1].ID}, "only heads")
	require.Len(t, got, 2)
	lease := map[uuid.UUID]uuid.UUID{}
	for _, d := range got {
		require.NotEqual(t, uuid.Nil, d.LeaseID)
		require.Equal(t, base.Add(time.Minute), d.LeaseUntil)
		lease[d.ID] = d.LeaseID
	}
	require.NotEqual(t, lease[m1.ID], lease[c1.ID])

	// Held heads block the rest.
	got, err = s.ClaimDeliveries(bg(), base.Add(30*time.Second), time.Minute, 10)
	require.NoError(t, err)
	require.Empty(t, got)

	// Wrong lease, unknown delivery.
	require.ErrorIs(t, s.AckDelivery(bg(), m1.ID, newID(t), invoice.Attempt{At: base}), invoice.ErrLeaseLost)
	require.ErrorIs(t, s.AckDelivery(bg(), newID(t), lease[m1.ID], invoice.Attempt{At: base}), invoice.ErrNotFound)

	// A failed attempt: m1 waits, still blocking m2.
	a1 := invoice.Attempt{At: base, Duration: 1500 * time.Microsecond, StatusCode: 500, Error: "boom"}
	require.NoError(t, s.RescheduleDelivery(bg(), m1.ID, lease[m1.ID], a1, base.Add(5*time.Minute), false))
	require.ErrorIs(t, s.RescheduleDelivery(bg(), m1.ID, lease[m1.ID], a1, base, false), invoice.ErrLeaseLost)
	got, err = s.ClaimDeliveries(bg(), base.Add(50*time.Second), time.Minute, 10)
	require.NoError(t, err)
	require.Empty(t, got)

	// Expired lease on c1: claimable again; the old lease is lost.
	got, err = s.ClaimDeliveries(bg(), base.Add(5*time.Minute), time.Minute, 10)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, []uuid.UUID{c1.ID, m1.ID}, []uuid.UUID{got[0].ID, got[1].ID},
		"earliest claimable first: c1 at its lease end (+1m), m1 at its retry (+5m)")
	require.Equal(t, []invoice.Attempt{a1}, got[1].Attempts)
	require.ErrorIs(t, s.AckDelivery(bg(), c1.ID, lease[c1.ID], invoice.Attempt{At: base}), invoice.ErrLeaseLost)
}

func TestOutboxLifecycle(t *testing.T) {
	s := newStore(t)
	inv := newInvoice(t, "o")
	require.NoError(t, s.CreateInvoice(bg(), inv))
	m1 := newDelivery(t, inv, invoice.ChannelMerchant, 1, base)
	m2 := newDelivery(t, inv, invoice.ChannelMerchant, 2, base)
	require.NoError(t, s.UpdateInvoice(bg(), inv, []*invoice.Delivery{m1, m2}))

	claim := func(now time.Time) []*invoice.Delivery {
		t.Helper()
		got, err := s.ClaimDeliveries(bg(), now, time.Minute, 10)
		require.NoError(t, err)
		return got
	}
	got := claim(base)
	require.Len(t, got, 1)
	require.Equal(t, m1.ID, got[0].ID)
	old := got[0].LeaseID

	// The lease runs out; another claimer takes over; the first loses it.
	got = claim(base.Add(time.Minute))
	require.Len(t, got, 1)
	require.Equal(t, m1.ID, got[0].ID)
	require.NotEqual(t, old, got[0].LeaseID)
	require.ErrorIs(t, s.AckDelivery(bg(), m1.ID, old, invoice.Attempt{At: base}), invoice.ErrLeaseLost)

	// Dead: no longer blocks m2.
	a := invoice.Attempt{At: base.Add(time.Minute), StatusCode: 502, Error: "bad gateway", Duration: time.Millisecond}
	require.NoError(t, s.RescheduleDelivery(bg(), m1.ID, got[0].LeaseID, a, base.Add(time.Hour), true))
	d, err := s.GetDelivery(bg(), m1.ID)
	require.NoError(t, err)
	require.Equal(t, invoice.DeliveryDead, d.State)
	require.Equal(t, []invoice.Attempt{a}, d.Attempts)
	require.Equal(t, uuid.Nil, d.LeaseID)
	require.True(t, d.LeaseUntil.IsZero())
	require.Equal(t, base, d.NextAttemptAt, "dead keeps its NextAttemptAt")

	got = claim(base.Add(time.Minute))
	require.Len(t, got, 1)
	require.Equal(t, m2.ID, got[0].ID)
	ok := invoice.Attempt{At: base.Add(2 * time.Minute), Duration: 3 * time.Millisecond}
	require.NoError(t, s.AckDelivery(bg(), m2.ID, got[0].LeaseID, ok))
	require.ErrorIs(t, s.AckDelivery(bg(), m2.ID, got[0].LeaseID, ok), invoice.ErrLeaseLost, "already settled")
	d, err = s.GetDelivery(bg(), m2.ID)
	require.NoError(t, err)
	require.Equal(t, invoice.DeliveryDelivered, d.State)
	require.Equal(t, []invoice.Attempt{ok}, d.Attempts)

	dead, err := s.ListDeliveries(bg(), invoice.DeliveryQuery{State: invoice.DeliveryDead, Limit: 10})
	require.NoError(t, err)
	require.Len(t, dead, 1)
	require.Equal(t, m1.ID, dead[0].ID)

	// Redeliver the dead one: pending again, due now, attempts kept.
	require.NoError(t, s.RedeliverDelivery(bg(), m1.ID, base.Add(3*time.Hour)))
	require.ErrorIs(t, s.RedeliverDelivery(bg(), newID(t), base), invoice.ErrNotFound)
	got = claim(base.Add(3 * time.Hour))
	require.Len(t, got, 1)
	require.Equal(t, m1.ID, got[0].ID)
	require.Equal(t, []invoice.Attempt{a}, got[0].Attempts)
	require.NoError(t, s.RedeliverDelivery(bg(), m1.ID, base.Add(4*time.Hour)), "pending: left alone")
	d, err = s.GetDelivery(bg(), m1.ID)
	require.NoError(t, err)
	require.Equal(t, got[0].LeaseID, d.LeaseID)

	// Listing: by invoice, by state, paged.
	all, err := s.ListDeliveries(bg(), invoice.DeliveryQuery{InvoiceID: inv.ID, Limit: 1})
	require.NoError(t, err)
	require.Len(t, all, 1)
	rest, err := s.ListDeliveries(bg(), invoice.DeliveryQuery{InvoiceID: inv.ID, After: all[0].ID, Limit: 10})
	require.NoError(t, err)
	require.Len(t, rest, 1)
	delivered, err := s.ListDeliveries(bg(), invoice.DeliveryQuery{InvoiceID: inv.ID, State: invoice.DeliveryDelivered, Limit: 10})
	require.NoError(t, err)
	require.Len(t, delivered, 1)
	require.Equal(t, m2.ID, delivered[0].ID)
}

func TestClaimDeliveriesConcurrentKeepsOrder(t *testing.T) {
	s := newStore(t)
	const invoices, per = 20, 6
	for i := range invoices {
		inv := newInvoice(t, fmt.Sprint("q-", i))
		require.NoError(t, s.CreateInvoice(bg(), inv))
		var out []*invoice.Delivery
		for k := range per {
			out = append(out, newDelivery(t, inv, invoice.ChannelMerchant, int64(k), base))
		}
		require.NoError(t, s.UpdateInvoice(bg(), inv, out))
	}
	// Six claimers race; each acks what it claims. Per invoice the seqs
	// must be acknowledged in order and never be held twice at once.
	var (
		mu      sync.Mutex
		held    = map[uuid.UUID]bool{} // invoice → a delivery of it is held
		nextSeq = map[uuid.UUID]int64{}
		total   int
		wg      sync.WaitGroup
	)
	for range 6 {
		wg.Go(func() {
			for idle := 0; idle < 20; {
				got, err := s.ClaimDeliveries(bg(), base, time.Hour, 5)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					idle++
					time.Sleep(time.Millisecond)
					continue
				}
				for _, d := range got {
					mu.Lock()
					if held[d.InvoiceID] {
						t.Errorf("invoice %s: two deliveries held at once", d.InvoiceID)
					}
					if d.Seq != nextSeq[d.InvoiceID] {
						t.Errorf("invoice %s: got seq %d, want %d", d.InvoiceID, d.Seq, nextSeq[d.InvoiceID])
					}
					held[d.InvoiceID] = true
					nextSeq[d.InvoiceID]++
					total++
					mu.Unlock()
				}
				for _, d := range got {
					mu.Lock()
					held[d.InvoiceID] = false
					mu.Unlock()
					if err := s.AckDelivery(bg(), d.ID, d.LeaseID, invoice.Attempt{At: base}); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	require.Equal(t, invoices*per, total)
}

func TestCancelledContext(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithCancel(bg())
	cancel()
	inv := newInvoice(t, "ctx")
	require.ErrorIs(t, s.CreateInvoice(ctx, inv), context.Canceled)
	_, err := s.GetInvoice(ctx, inv.ID)
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.ListInvoices(ctx, invoice.ListQuery{Limit: 1})
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, s.UpdateInvoice(ctx, inv, nil), context.Canceled)
	_, err = s.ClaimDueInvoices(ctx, base, time.Minute, 1)
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.ClaimDeliveries(ctx, base, time.Minute, 1)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, s.AckDelivery(ctx, inv.ID, inv.ID, invoice.Attempt{}), context.Canceled)
	require.ErrorIs(t, s.RedeliverDelivery(ctx, inv.ID, base), context.Canceled)
}
