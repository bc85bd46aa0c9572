package storetest

import (
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	invoice "github.com/cryptoinvoice/invoice"
)

func payoutCases() []testCase {
	return []testCase{
		{"OnlyRedeemedClaims", testPayoutOnlyRedeemed},
		{"FollowsUpdates", testPayoutFollowsUpdates},
		{"Paging", testPayoutPaging},
		{"Copies", testPayoutCopies},
	}
}

// withClaims gives an invoice refund claims in the given states.
func withClaims(states ...invoice.RefundClaimStatus) func(*invoice.Invoice) {
	return func(inv *invoice.Invoice) {
		for i, st := range states {
			rc := invoice.RefundClaim{
				ID: testID(kindClaim, int(inv.ID[15])<<8|i), Amount: dec("0.00010000"), Currency: "BTC",
				Reason: "overpaid", Status: st, CreatedAt: base,
			}
			if st != invoice.RefundOpen {
				rc.Destination, rc.RedeemedAt = "bc1qcustomer", base.Add(time.Minute)
			}
			if st == invoice.RefundPaid {
				rc.PayoutRef, rc.PaidAt = "payout-1", base.Add(2*time.Minute)
			}
			inv.RefundClaims = append(inv.RefundClaims, rc)
		}
	}
}

func (f *fixture) awaiting(after uuid.UUID, limit int) []*invoice.Invoice {
	f.t.Helper()
	invs, err := f.s.ListAwaitingPayout(ctx(), after, limit)
	require.NoError(f.t, err, "ListAwaitingPayout")
	return invs
}

func testPayoutOnlyRedeemed(f *fixture) {
	t := f.t
	require.Empty(t, f.awaiting(uuid.Nil, 10), "empty store")
	f.create()                                        // no claims
	f.create(withClaims(invoice.RefundOpen))          // open only
	f.create(withClaims(invoice.RefundPaid))          // paid only
	a := f.create(withClaims(invoice.RefundRedeemed)) // created redeemed
	f.create(withClaims(invoice.RefundOpen, invoice.RefundPaid))
	b := f.create(withClaims(invoice.RefundPaid, invoice.RefundRedeemed, invoice.RefundOpen))
	got := f.awaiting(uuid.Nil, 10)
	require.Equal(t, []uuid.UUID{a.ID, b.ID}, invoiceIDs(got))
	requireSame(t, f.get(a.ID), got[0], "a listed invoice is the stored one")
	requireSame(t, f.get(b.ID), got[1], "a listed invoice is the stored one")
	require.Empty(t, f.awaiting(uuid.Nil, 0), "limit 0")
	require.Empty(t, f.awaiting(uuid.Nil, -1), "negative limit")
}

func testPayoutFollowsUpdates(f *fixture) {
	t := f.t
	a := f.create(withClaims(invoice.RefundOpen))
	b := f.create(withClaims(invoice.RefundRedeemed, invoice.RefundRedeemed))
	require.Equal(t, []uuid.UUID{b.ID}, invoiceIDs(f.awaiting(uuid.Nil, 10)))

	a.RefundClaims[0].Status = invoice.RefundRedeemed // the customer redeems
	f.update(a)
	require.Equal(t, []uuid.UUID{a.ID, b.ID}, invoiceIDs(f.awaiting(uuid.Nil, 10)))

	b.RefundClaims[0].Status = invoice.RefundPaid // one of two paid: still awaiting
	f.update(b)
	require.Equal(t, []uuid.UUID{a.ID, b.ID}, invoiceIDs(f.awaiting(uuid.Nil, 10)))
	b.RefundClaims[1].Status = invoice.RefundPaid
	f.update(b)
	require.Equal(t, []uuid.UUID{a.ID}, invoiceIDs(f.awaiting(uuid.Nil, 10)))

	a.RefundClaims[0].Status = invoice.RefundPaid
	a.Title = "paid out"
	f.update(a)
	require.Empty(t, f.awaiting(uuid.Nil, 10))

	// A refused update changes nothing.
	stale := f.get(b.ID)
	stale.Version--
	stale.RefundClaims[1].Status = invoice.RefundRedeemed
	require.ErrorIs(t, f.s.UpdateInvoice(ctx(), stale, nil), invoice.ErrConflict)
	require.Empty(t, f.awaiting(uuid.Nil, 10))
}

func testPayoutPaging(f *fixture) {
	t := f.t
	var want []uuid.UUID
	for i := range 7 {
		if i%3 == 1 {
			f.create(withClaims(invoice.RefundOpen))
			continue
		}
		want = append(want, f.create(withClaims(invoice.RefundRedeemed)).ID)
	}
	var got []uuid.UUID
	after := uuid.Nil
	for {
		page := f.awaiting(after, 2)
		require.LessOrEqual(t, len(page), 2)
		got = append(got, invoiceIDs(page)...)
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1].ID
	}
	require.Equal(t, want, got)
	require.Equal(t, want[2:], invoiceIDs(f.awaiting(want[1], 10)), "after a cursor")
	require.Equal(t, want[3:], invoiceIDs(f.awaiting(testID(kindInvoice, 5), 10)), "after an ID that is not listed (an open claim)")
	require.Empty(t, f.awaiting(want[len(want)-1], 10), "after the last")
}

func testPayoutCopies(f *fixture) {
	t := f.t
	a := f.create(withClaims(invoice.RefundRedeemed))
	want := f.get(a.ID)
	got := f.awaiting(uuid.Nil, 10)
	require.Len(t, got, 1)
	got[0].Title = "mutated"
	got[0].RefundClaims[0].Status = invoice.RefundPaid
	got[0].RefundClaims[0].Destination = "mutated"
	requireSame(t, want, f.get(a.ID), "mutating a listed invoice changed the stored one")
	require.Len(t, f.awaiting(uuid.Nil, 10), 1)
}
