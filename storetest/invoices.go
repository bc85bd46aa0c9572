package storetest

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	invoice "github.com/cryptoinvoice/invoice"
)

// maxNumber is the bound of invoice numbers: transaction numbers
// (Number × 1,000,000 + position) must stay below 2^53.
const maxNumber = (1 << 53) / 1_000_000

func createCases() []testCase {
	return []testCase{
		{"AssignsVersionAndNumber", testCreateAssigns},
		{"DuplicateForeignID", testCreateDuplicate},
		{"ConcurrentDuplicateForeignID", testCreateConcurrentDuplicate},
		{"ConcurrentNumbersUnique", testCreateConcurrentNumbers},
		{"NotFound", testGetNotFound},
	}
}

func testCreateAssigns(f *fixture) {
	t := f.t
	var last int64
	for i := range 5 {
		inv := f.newInvoice()
		inv.Version = 7 // ignored: the store sets 1
		inv.Number = 0
		require.NoError(t, f.s.CreateInvoice(ctx(), inv))
		require.Equal(t, int64(1), inv.Version, "Version set on the passed invoice")
		require.Positive(t, inv.Number, "Number set on the passed invoice")
		require.Less(t, inv.Number, int64(maxNumber))
		require.Greater(t, inv.Number, last, "invoice %d: numbers increase", i)
		last = inv.Number

		got := f.get(inv.ID)
		require.Equal(t, int64(1), got.Version)
		require.Equal(t, inv.Number, got.Number)
		requireSame(t, inv, got)
		byFID, err := f.s.GetInvoiceByForeignID(ctx(), inv.ForeignID)
		require.NoError(t, err)
		requireSame(t, inv, byFID)
	}
}

func testCreateDuplicate(f *fixture) {
	t := f.t
	a := f.create()
	want := f.get(a.ID)

	// Same foreign_id, another ID, a due deadline and a different title:
	// none of it may be stored or indexed.
	b := f.newInvoice(withDeadline(base.Add(-time.Hour)))
	b.ForeignID = a.ForeignID
	b.Title = "the impostor"
	err := f.s.CreateInvoice(ctx(), b)
	require.ErrorIs(t, err, invoice.ErrDuplicate)
	require.Equal(t, int64(0), b.Version, "Version is only set on success")
	require.Equal(t, int64(0), b.Number, "Number is only set on success")

	_, err = f.s.GetInvoice(ctx(), b.ID)
	require.ErrorIs(t, err, invoice.ErrNotFound)
	got, err := f.s.GetInvoiceByForeignID(ctx(), a.ForeignID)
	require.NoError(t, err)
	requireSame(t, want, got)
	all, err := f.s.ListInvoices(ctx(), invoice.ListQuery{Limit: 100})
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{a.ID}, invoiceIDs(all))
	due, err := f.s.ClaimDueInvoices(ctx(), base, time.Minute, 10)
	require.NoError(t, err)
	require.Empty(t, due, "the refused invoice's deadline must not be indexed")

	// The store still works and numbers stay unique.
	c := f.create()
	require.Greater(t, c.Number, a.Number)
}

func testCreateConcurrentDuplicate(f *fixture) {
	t := f.t
	const n = 20
	invs := make([]*invoice.Invoice, n)
	for i := range invs {
		invs[i] = f.newInvoice()
		invs[i].ForeignID = "same-order"
		invs[i].Title = fmt.Sprintf("writer %d", i)
	}
	errs := concurrently(n, func(i int) error { return f.s.CreateInvoice(ctx(), invs[i]) })
	winner := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, winner, "two creates of one foreign_id succeeded: %d and %d", winner, i)
			winner = i
			continue
		}
		require.ErrorIs(t, err, invoice.ErrDuplicate, "writer %d", i)
	}
	require.NotEqual(t, -1, winner, "no create succeeded")
	got, err := f.s.GetInvoiceByForeignID(ctx(), "same-order")
	require.NoError(t, err)
	requireSame(t, invs[winner], got)
	for i, inv := range invs {
		if i != winner {
			_, err := f.s.GetInvoice(ctx(), inv.ID)
			require.ErrorIs(t, err, invoice.ErrNotFound, "loser %d", i)
		}
	}
}

func testCreateConcurrentNumbers(f *fixture) {
	t := f.t
	const writers, each = 10, 5
	invs := make([]*invoice.Invoice, writers*each)
	for i := range invs {
		invs[i] = f.newInvoice()
	}
	errs := concurrently(writers, func(w int) error {
		for i := range each {
			if err := f.s.CreateInvoice(ctx(), invs[w*each+i]); err != nil {
				return err
			}
		}
		return nil
	})
	for w, err := range errs {
		require.NoError(t, err, "writer %d", w)
	}
	seen := make(map[int64]bool)
	for _, inv := range invs {
		require.Positive(t, inv.Number)
		require.False(t, seen[inv.Number], "number %d assigned twice", inv.Number)
		seen[inv.Number] = true
		require.Equal(t, inv.Number, f.get(inv.ID).Number)
	}
	// Each writer's own creates are sequential, so its numbers increase.
	for w := range writers {
		for i := 1; i < each; i++ {
			require.Greater(t, invs[w*each+i].Number, invs[w*each+i-1].Number)
		}
	}
}

func testGetNotFound(f *fixture) {
	t := f.t
	f.create()
	_, err := f.s.GetInvoice(ctx(), f.nextOtherID())
	require.ErrorIs(t, err, invoice.ErrNotFound)
	_, err = f.s.GetInvoice(ctx(), uuid.Nil)
	require.ErrorIs(t, err, invoice.ErrNotFound)
	_, err = f.s.GetInvoiceByForeignID(ctx(), "no-such-order")
	require.ErrorIs(t, err, invoice.ErrNotFound)
	_, err = f.s.GetInvoiceByForeignID(ctx(), "")
	require.ErrorIs(t, err, invoice.ErrNotFound)
}

func roundTripCases() []testCase {
	return []testCase{
		{"FullInvoice", testRoundTripFull},
		{"MinimalInvoice", testRoundTripMinimal},
		{"Decimals", testRoundTripDecimals},
		{"Times", testRoundTripTimes},
		{"CopiesIn", testCopiesIn},
		{"CopiesOut", testCopiesOut},
	}
}

func testRoundTripFull(f *fixture) {
	t := f.t
	inv := f.fullInvoice()
	want := inv.Clone()
	require.NoError(t, f.s.CreateInvoice(ctx(), inv))
	want.Version, want.Number = 1, inv.Number

	got := f.get(inv.ID)
	requireSame(t, want, got)
	// Spot checks with explicit messages on what stores most often lose.
	requireDecimal(t, dec("1.50"), got.Amount, "Amount")
	requireDecimal(t, dec("0.123456789012345678"), got.SenderAmount, "SenderAmount")
	requireDecimal(t, dec("123456789012.12"), got.Quotes[2].Amount, "Quotes[2].Amount")
	requireDecimal(t, dec("0.999800"), got.Quotes[2].Rate, "Quotes[2].Rate")
	requireDecimal(t, dec("0.100000000000000000"), got.Transactions[0].Amount, "Transactions[0].Amount")
	requireTime(t, want.ExpiresAt, got.ExpiresAt, "ExpiresAt")
	require.Equal(t, []string{"0xaaa1", "0xaaa2"}, got.RefundClaims[1].TxIDs)
	require.True(t, got.RefundClaims[1].PaidAt.IsZero(), "zero time stays zero")

	byFID, err := f.s.GetInvoiceByForeignID(ctx(), inv.ForeignID)
	require.NoError(t, err)
	requireSame(t, want, byFID)
	list, err := f.s.ListInvoices(ctx(), invoice.ListQuery{Limit: 10})
	require.NoError(t, err)
	require.Len(t, list, 1)
	requireSame(t, want, list[0])

	// And through an update, with every field changed.
	next := f.fullInvoice()
	next.ID, next.ForeignID, next.Number, next.Version = inv.ID, inv.ForeignID, inv.Number, inv.Version
	next.Title = "changed"
	next.Amount = dec("123456789012.12")
	next.SenderAmount = dec("0.000000000000000001")
	next.Quotes = next.Quotes[:1]
	next.Transactions = append(next.Transactions, invoice.Transaction{
		Number: 42_000_004, TxID: "0xaaa4", Currency: "ETH", Amount: dec("2.000"),
		Status: invoice.TxNotConfirmed, SeenAt: base.Add(time.Hour), UpdatedAt: base.Add(time.Hour),
	})
	next.RefundClaims[1].Status = invoice.RefundRedeemed
	next.RefundClaims[1].RedeemedAt = base.Add(2 * time.Hour)
	next.RefundClaims[1].TxIDs = []string{"0xaaa2"}
	next.Status = invoice.StatusPending
	next.Deadline = base.Add(48*time.Hour + time.Microsecond)
	next.UpdatedAt = base.Add(time.Hour + time.Microsecond)
	wantNext := next.Clone()
	f.update(next)
	wantNext.Version = 2
	requireSame(t, wantNext, f.get(inv.ID))
	requireDecimal(t, dec("0.000000000000000001"), f.get(inv.ID).SenderAmount, "SenderAmount after update")
}

func testRoundTripMinimal(f *fixture) {
	t := f.t
	// Nothing but identity: zero decimals, zero times, nil slices.
	inv := &invoice.Invoice{ID: f.nextInvoiceID(), ForeignID: "minimal", Type: invoice.TypeNoTimer, Status: invoice.StatusCreated}
	want := inv.Clone()
	require.NoError(t, f.s.CreateInvoice(ctx(), inv))
	want.Version, want.Number = 1, inv.Number
	got := f.get(inv.ID)
	requireSame(t, want, got)
	require.True(t, got.Amount.IsZero())
	require.True(t, got.CreatedAt.IsZero(), "zero CreatedAt stays zero")
	require.True(t, got.Deadline.IsZero(), "zero Deadline stays zero")
	require.Empty(t, got.Quotes)
	require.Empty(t, got.Transactions)
	require.Empty(t, got.RefundClaims)
}

func testRoundTripDecimals(f *fixture) {
	t := f.t
	values := []string{
		"1.50", "0.123456789012345678", "123456789012.12", "0.00000001", "100", "100.000",
		"0", "0.00", "0.000000000000000000", "1000000000000000000.000000000000000001", "99999999999999999999.99",
	}
	ids := make([]uuid.UUID, len(values))
	for i, v := range values {
		inv := f.create(func(inv *invoice.Invoice) {
			inv.Amount = dec(v)
			inv.Rate = dec(v)
			inv.Quotes = []invoice.Quote{{Currency: "BTC", Rate: dec(v), Amount: dec(v)}}
			inv.Transactions = []invoice.Transaction{{TxID: "tx", Amount: dec(v), Status: invoice.TxConfirmed}}
			inv.RefundClaims = []invoice.RefundClaim{{ID: testID(kindClaim, i), Amount: dec(v), Status: invoice.RefundOpen}}
		})
		ids[i] = inv.ID
	}
	for i, v := range values {
		got := f.get(ids[i])
		requireDecimal(t, dec(v), got.Amount, v+" Amount")
		requireDecimal(t, dec(v), got.Rate, v+" Rate")
		requireDecimal(t, dec(v), got.Quotes[0].Rate, v+" Quote.Rate")
		requireDecimal(t, dec(v), got.Quotes[0].Amount, v+" Quote.Amount")
		requireDecimal(t, dec(v), got.Transactions[0].Amount, v+" Transaction.Amount")
		requireDecimal(t, dec(v), got.RefundClaims[0].Amount, v+" RefundClaim.Amount")
		require.True(t, got.SenderAmount.IsZero(), "unset decimal")
	}
}

func testRoundTripTimes(f *fixture) {
	t := f.t
	times := []time.Time{
		base,
		base.Add(time.Microsecond),
		base.Add(-time.Microsecond),
		time.Date(2026, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2100, 6, 15, 12, 0, 0, 1000, time.UTC),
	}
	for i, tm := range times {
		inv := f.create(func(inv *invoice.Invoice) {
			inv.CreatedAt, inv.UpdatedAt, inv.FixedAt, inv.ExpiresAt, inv.Deadline = tm, tm, tm, tm, tm
			inv.Status = invoice.StatusConfirmed // not due, whatever the time
			inv.Transactions = []invoice.Transaction{{TxID: "tx", Status: invoice.TxConfirmed, SeenAt: tm, UpdatedAt: tm}}
			inv.RefundClaims = []invoice.RefundClaim{{ID: testID(kindClaim, i), Status: invoice.RefundPaid,
				CreatedAt: tm, RedeemedAt: tm, PaidAt: tm}}
		})
		got := f.get(inv.ID)
		for name, v := range map[string]time.Time{
			"CreatedAt": got.CreatedAt, "UpdatedAt": got.UpdatedAt, "FixedAt": got.FixedAt,
			"ExpiresAt": got.ExpiresAt, "Deadline": got.Deadline,
			"Transactions[0].SeenAt": got.Transactions[0].SeenAt, "Transactions[0].UpdatedAt": got.Transactions[0].UpdatedAt,
			"RefundClaims[0].CreatedAt": got.RefundClaims[0].CreatedAt, "RefundClaims[0].RedeemedAt": got.RefundClaims[0].RedeemedAt,
			"RefundClaims[0].PaidAt": got.RefundClaims[0].PaidAt,
		} {
			requireTime(t, tm, v, fmt.Sprintf("time %d %s", i, name))
		}
	}
}

func testCopiesIn(f *fixture) {
	t := f.t
	inv := f.fullInvoice()
	require.NoError(t, f.s.CreateInvoice(ctx(), inv))
	want := inv.Clone()
	mutate(inv)
	requireSame(t, want, f.get(want.ID), "mutating the created invoice changed the stored one")

	next := f.get(want.ID)
	next.Title = "updated"
	f.update(next)
	want = next.Clone()
	mutate(next)
	requireSame(t, want, f.get(want.ID), "mutating the updated invoice changed the stored one")
}

func testCopiesOut(f *fixture) {
	t := f.t
	inv := f.fullInvoice()
	require.NoError(t, f.s.CreateInvoice(ctx(), inv))
	want := inv.Clone()

	mutate(f.get(want.ID))
	byFID, err := f.s.GetInvoiceByForeignID(ctx(), want.ForeignID)
	require.NoError(t, err)
	mutate(byFID)
	list, err := f.s.ListInvoices(ctx(), invoice.ListQuery{Limit: 10})
	require.NoError(t, err)
	require.Len(t, list, 1)
	mutate(list[0])
	requireSame(t, want, f.get(want.ID), "mutating a returned invoice changed the stored one")
}

// mutate changes every reachable part of a full invoice in place.
func mutate(inv *invoice.Invoice) {
	inv.Title = "mutated"
	inv.Version = 99
	inv.Deadline = time.Time{}
	inv.Amount = dec("666")
	inv.Quotes[0].Amount = dec("666")
	inv.Quotes[0].Currency = "XXX"
	inv.Transactions[0].TxID = "mutated"
	inv.Transactions[0].Status = invoice.TxCancelled
	inv.RefundClaims[0].TxIDs[0] = "mutated"
	inv.RefundClaims[0].Status = invoice.RefundOpen
	inv.Transactions = append(inv.Transactions, invoice.Transaction{TxID: "appended"})
	inv.RefundClaims = append(inv.RefundClaims, invoice.RefundClaim{Reason: "appended"})
	inv.Quotes = append(inv.Quotes[:1], invoice.Quote{Currency: "APP"})
}

func updateCases() []testCase {
	return []testCase{
		{"IncrementsVersion", testUpdateIncrements},
		{"StaleVersionConflicts", testUpdateStale},
		{"NotFound", testUpdateNotFound},
		{"ConcurrentSameVersion", testUpdateConcurrentSameVersion},
		{"ConcurrentRetries", testUpdateConcurrentRetries},
	}
}

func testUpdateIncrements(f *fixture) {
	t := f.t
	inv := f.create()
	for v := int64(1); v <= 3; v++ {
		cur := f.get(inv.ID)
		require.Equal(t, v, cur.Version)
		cur.Title = fmt.Sprintf("title v%d", v+1)
		cur.Status = invoice.StatusPending
		cur.UpdatedAt = base.Add(time.Duration(v) * time.Second)
		want := cur.Clone()
		f.update(cur)
		require.Equal(t, v+1, cur.Version, "Version set on the passed invoice")
		want.Version = v + 1
		requireSame(t, want, f.get(inv.ID))
	}
	got := f.get(inv.ID)
	require.Equal(t, inv.Number, got.Number, "Number is kept")
	require.Equal(t, inv.ForeignID, got.ForeignID)
}

func testUpdateStale(f *fixture) {
	t := f.t
	inv := f.create()
	first, second := f.get(inv.ID), f.get(inv.ID)

	first.Title = "first"
	d1 := f.newDelivery(first, invoice.ChannelMerchant, 1, base)
	f.update(first, d1)
	want := f.get(inv.ID)
	require.Equal(t, "first", want.Title)

	// From the same prior version: refused, nothing stored.
	second.Title = "second"
	second.Deadline = base.Add(-time.Hour) // would be due
	d2 := f.newDelivery(second, invoice.ChannelMerchant, 2, base)
	d3 := f.newDelivery(second, invoice.ChannelCustomer, 3, base)
	err := f.s.UpdateInvoice(ctx(), second, []*invoice.Delivery{d2, d3})
	require.ErrorIs(t, err, invoice.ErrConflict)
	require.Equal(t, int64(1), second.Version, "a refused update leaves inv.Version alone")
	requireSame(t, want, f.get(inv.ID))

	// From a version ahead of the stored one: refused too.
	ahead := want.Clone()
	ahead.Version = want.Version + 1
	ahead.Title = "ahead"
	require.ErrorIs(t, f.s.UpdateInvoice(ctx(), ahead, []*invoice.Delivery{f.newDelivery(ahead, invoice.ChannelMerchant, 4, base)}), invoice.ErrConflict)
	requireSame(t, want, f.get(inv.ID))

	ds, err := f.s.ListDeliveries(ctx(), invoice.DeliveryQuery{InvoiceID: inv.ID, Limit: 100})
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{d1.ID}, idsOf(ds), "only the successful update's outbox is stored")
	for _, d := range []*invoice.Delivery{d2, d3} {
		_, err := f.s.GetDelivery(ctx(), d.ID)
		require.ErrorIs(t, err, invoice.ErrNotFound)
	}
	due, err := f.s.ClaimDueInvoices(ctx(), base, time.Minute, 10)
	require.NoError(t, err)
	require.Empty(t, due, "the refused update's deadline must not be indexed")
	claimed, err := f.s.ClaimDeliveries(ctx(), base, time.Minute, 10)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{d1.ID}, idsOf(claimed))
}

func testUpdateNotFound(f *fixture) {
	t := f.t
	f.create()
	ghost := f.newInvoice() // never created
	ghost.Version = 1
	d := f.newDelivery(ghost, invoice.ChannelMerchant, 1, base)
	err := f.s.UpdateInvoice(ctx(), ghost, []*invoice.Delivery{d})
	require.ErrorIs(t, err, invoice.ErrNotFound)
	require.NotErrorIs(t, err, invoice.ErrConflict)
	_, err = f.s.GetInvoice(ctx(), ghost.ID)
	require.ErrorIs(t, err, invoice.ErrNotFound)
	_, err = f.s.GetDelivery(ctx(), d.ID)
	require.ErrorIs(t, err, invoice.ErrNotFound)
	all, err := f.s.ListDeliveries(ctx(), invoice.DeliveryQuery{Limit: 10})
	require.NoError(t, err)
	require.Empty(t, all)
}

func testUpdateConcurrentSameVersion(f *fixture) {
	t := f.t
	const n = 50
	inv := f.create()
	prior := f.get(inv.ID)
	invs := make([]*invoice.Invoice, n)
	outs := make([]*invoice.Delivery, n)
	for i := range invs {
		invs[i] = prior.Clone()
		invs[i].Title = fmt.Sprintf("writer %d", i)
		outs[i] = f.newDelivery(invs[i], invoice.ChannelMerchant, 1, base)
	}
	errs := concurrently(n, func(i int) error {
		return f.s.UpdateInvoice(ctx(), invs[i], []*invoice.Delivery{outs[i]})
	})
	winner := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, winner, "two updates from version 1 succeeded: %d and %d", winner, i)
			winner = i
			continue
		}
		require.ErrorIs(t, err, invoice.ErrConflict, "writer %d", i)
	}
	require.NotEqual(t, -1, winner, "no update succeeded")
	got := f.get(inv.ID)
	require.Equal(t, int64(2), got.Version)
	require.Equal(t, fmt.Sprintf("writer %d", winner), got.Title)
	ds, err := f.s.ListDeliveries(ctx(), invoice.DeliveryQuery{InvoiceID: inv.ID, Limit: 100})
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{outs[winner].ID}, idsOf(ds), "exactly the winner's outbox is stored")
}

func testUpdateConcurrentRetries(f *fixture) {
	t := f.t
	const writers, increments = 20, 10
	inv := f.create()

	var (
		mu       sync.Mutex
		winners  []uuid.UUID // delivery IDs of successful writes
		versions []int64     // versions they produced
	)
	errs := concurrently(writers, func(w int) error {
		for i := range increments {
			txid := fmt.Sprintf("tx-%02d-%02d", w, i)
			for {
				cur, err := f.s.GetInvoice(ctx(), inv.ID)
				if err != nil {
					return err
				}
				cur.Transactions = append(cur.Transactions, invoice.Transaction{
					TxID: txid, Currency: "BTC", Amount: dec("0.001"), Status: invoice.TxNotConfirmed,
				})
				did, err := uuid.NewV7()
				if err != nil {
					return err
				}
				d := &invoice.Delivery{
					ID: did, InvoiceID: inv.ID, Channel: invoice.ChannelMerchant,
					Seq:   (cur.Version + 1) << 10,
					State: invoice.DeliveryPending, CreatedAt: base, NextAttemptAt: base,
					Callback: &invoice.Callback{ForeignID: txid, Status: invoice.StatusProcessing,
						Transactions: []invoice.CallbackTransaction{}, Fees: []invoice.CallbackFee{}},
				}
				err = f.s.UpdateInvoice(ctx(), cur, []*invoice.Delivery{d})
				if err == nil {
					mu.Lock()
					winners = append(winners, d.ID)
					versions = append(versions, cur.Version)
					mu.Unlock()
					break
				}
				if !errors.Is(err, invoice.ErrConflict) {
					return err
				}
				runtime.Gosched()
			}
		}
		return nil
	})
	for w, err := range errs {
		require.NoError(t, err, "writer %d", w)
	}

	got := f.get(inv.ID)
	require.Equal(t, int64(1+writers*increments), got.Version)
	require.Len(t, got.Transactions, writers*increments)
	var txids, wantTxids []string
	for _, tx := range got.Transactions {
		txids = append(txids, tx.TxID)
	}
	for w := range writers {
		for i := range increments {
			wantTxids = append(wantTxids, fmt.Sprintf("tx-%02d-%02d", w, i))
		}
	}
	slices.Sort(txids)
	require.Equal(t, wantTxids, txids, "every increment applied exactly once")

	slices.Sort(versions)
	for i, v := range versions {
		require.Equal(t, int64(2+i), v, "each success produced the next version")
	}

	ds, err := f.s.ListDeliveries(ctx(), invoice.DeliveryQuery{InvoiceID: inv.ID, Limit: 1000})
	require.NoError(t, err)
	require.Equal(t, sortedIDs(winners...), deliveryIDs(ds), "exactly the winning writes' outbox records")

	// The head of the queue is the record of the first write (lowest Seq).
	claimed, err := f.s.ClaimDeliveries(ctx(), base, time.Minute, 10)
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	require.Equal(t, int64(2)<<10, claimed[0].Seq)
}

func listCases() []testCase {
	return []testCase{
		{"OrderAndPaging", testListOrderAndPaging},
		{"StatusFilter", testListStatusFilter},
		{"CreatedRange", testListCreatedRange},
		{"Empty", testListEmpty},
	}
}

// createShuffled creates invoices whose IDs sort in another order than
// they are created in (and than their Numbers), with the given statuses.
func (f *fixture) createShuffled(statuses ...invoice.Status) []*invoice.Invoice {
	f.t.Helper()
	order := []int{5, 2, 9, 1, 7, 3, 8, 4, 6, 10, 12, 11}
	require.LessOrEqual(f.t, len(statuses), len(order))
	invs := make([]*invoice.Invoice, len(statuses))
	for i, st := range statuses {
		// Vary the leading bytes too, not only the tail.
		id := testID(kindInvoice+uint16(order[i]), order[i])
		invs[i] = f.create(withID(id), withStatus(st))
	}
	slices.SortFunc(invs, func(a, b *invoice.Invoice) int { return compareIDs(a.ID, b.ID) })
	return invs
}

func testListOrderAndPaging(f *fixture) {
	t := f.t
	all := f.createShuffled(invoice.StatusCreated, invoice.StatusPending, invoice.StatusProcessing,
		invoice.StatusConfirmed, invoice.StatusFailed, invoice.StatusPending, invoice.StatusCreated)
	wantIDs := invoiceIDs(all)

	got, err := f.s.ListInvoices(ctx(), invoice.ListQuery{Limit: 100})
	require.NoError(t, err)
	require.Equal(t, wantIDs, invoiceIDs(got), "ascending ID order")
	for i := range all {
		requireSame(t, f.get(all[i].ID), got[i])
	}

	for _, limit := range []int{1, 3, 7} {
		var paged []uuid.UUID
		after := uuid.Nil
		for pages := 0; ; pages++ {
			require.Less(t, pages, 10, "paging does not end")
			page, err := f.s.ListInvoices(ctx(), invoice.ListQuery{After: after, Limit: limit})
			require.NoError(t, err)
			require.LessOrEqual(t, len(page), limit)
			if len(page) == 0 {
				break
			}
			paged = append(paged, invoiceIDs(page)...)
			after = page[len(page)-1].ID
		}
		require.Equal(t, wantIDs, paged, "limit %d", limit)
	}

	// A cursor that is no stored ID starts after where it would sort.
	between := wantIDs[2]
	between[15]++ // after all[2], before all[3]
	page, err := f.s.ListInvoices(ctx(), invoice.ListQuery{After: between, Limit: 2})
	require.NoError(t, err)
	require.Equal(t, wantIDs[3:5], invoiceIDs(page))

	page, err = f.s.ListInvoices(ctx(), invoice.ListQuery{After: wantIDs[len(wantIDs)-1], Limit: 5})
	require.NoError(t, err)
	require.Empty(t, page)
}

func testListStatusFilter(f *fixture) {
	t := f.t
	all := f.createShuffled(invoice.StatusCreated, invoice.StatusPending, invoice.StatusProcessing,
		invoice.StatusPending, invoice.StatusFailed, invoice.StatusPending, invoice.StatusCreated,
		invoice.StatusPending, invoice.StatusConfirmed)
	for _, st := range invoice.Statuses() {
		var want []uuid.UUID
		for _, inv := range all {
			if inv.Status == st {
				want = append(want, inv.ID)
			}
		}
		got, err := f.s.ListInvoices(ctx(), invoice.ListQuery{Status: st, Limit: 100})
		require.NoError(t, err)
		require.Equal(t, want, invoiceIDs(got), "status %s", st)

		var paged []uuid.UUID
		after := uuid.Nil
		for {
			page, err := f.s.ListInvoices(ctx(), invoice.ListQuery{Status: st, After: after, Limit: 2})
			require.NoError(t, err)
			if len(page) == 0 {
				break
			}
			for _, inv := range page {
				require.Equal(t, st, inv.Status)
			}
			paged = append(paged, invoiceIDs(page)...)
			after = page[len(page)-1].ID
		}
		require.Equal(t, want, paged, "status %s paged by 2", st)
	}

	// The filter follows updates.
	i := slices.IndexFunc(all, func(inv *invoice.Invoice) bool { return inv.Status == invoice.StatusCreated })
	moved := f.get(all[i].ID)
	moved.Status = invoice.StatusConfirmed
	f.update(moved)
	got, err := f.s.ListInvoices(ctx(), invoice.ListQuery{Status: invoice.StatusConfirmed, Limit: 100})
	require.NoError(t, err)
	assert.Contains(t, invoiceIDs(got), moved.ID)
	got, err = f.s.ListInvoices(ctx(), invoice.ListQuery{Status: invoice.StatusCreated, Limit: 100})
	require.NoError(t, err)
	assert.NotContains(t, invoiceIDs(got), moved.ID)
}

func testListCreatedRange(f *fixture) {
	t := f.t
	// Creation times in another order than the IDs, one on each bound.
	minutes := []int{30, 0, 10, 20, 10, 40, 19}
	statuses := []invoice.Status{invoice.StatusCreated, invoice.StatusPending, invoice.StatusCreated,
		invoice.StatusPending, invoice.StatusPending, invoice.StatusCreated, invoice.StatusCreated}
	var all []*invoice.Invoice
	for i, m := range minutes {
		at := base.Add(time.Duration(m)*time.Minute + time.Microsecond*time.Duration(i%2))
		all = append(all, f.create(withStatus(statuses[i]), func(inv *invoice.Invoice) { inv.CreatedAt = at }))
	}
	from, before := base.Add(10*time.Minute), base.Add(30*time.Minute)
	want := func(st invoice.Status, from, before time.Time) []uuid.UUID {
		var ids []uuid.UUID
		for _, inv := range all {
			if (st == 0 || inv.Status == st) && (from.IsZero() || !inv.CreatedAt.Before(from)) &&
				(before.IsZero() || inv.CreatedAt.Before(before)) {
				ids = append(ids, inv.ID)
			}
		}
		slices.SortFunc(ids, compareIDs)
		return ids
	}
	cases := []struct {
		status       invoice.Status
		from, before time.Time
	}{
		{0, from, before}, {0, from, time.Time{}}, {0, time.Time{}, before},
		{invoice.StatusPending, from, before}, {invoice.StatusCreated, time.Time{}, before},
		{invoice.StatusCreated, from, time.Time{}}, {0, before, from},
	}
	for _, c := range cases {
		q := invoice.ListQuery{Status: c.status, CreatedFrom: c.from, CreatedBefore: c.before, Limit: 100}
		got, err := f.s.ListInvoices(ctx(), q)
		require.NoError(t, err)
		require.Equal(t, want(c.status, c.from, c.before), invoiceIDs(got), "%+v", c)

		var paged []uuid.UUID
		for q.Limit = 2; ; q.After = paged[len(paged)-1] {
			page, err := f.s.ListInvoices(ctx(), q)
			require.NoError(t, err)
			if len(page) == 0 {
				break
			}
			paged = append(paged, invoiceIDs(page)...)
		}
		require.Equal(t, want(c.status, c.from, c.before), paged, "%+v paged by 2", c)
	}
}

func testListEmpty(f *fixture) {
	t := f.t
	got, err := f.s.ListInvoices(ctx(), invoice.ListQuery{Limit: 10})
	require.NoError(t, err)
	require.Empty(t, got)
	got, err = f.s.ListInvoices(ctx(), invoice.ListQuery{Status: invoice.StatusPending, Limit: 10})
	require.NoError(t, err)
	require.Empty(t, got)
}

// concurrently runs fn(0) … fn(n-1) in n goroutines released at once and
// returns their errors by index.
func concurrently(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}
