package storetest

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	invoice "github.com/cryptoinvoice/invoice"
)

const lease = time.Minute

func outboxCases() []testCase {
	return []testCase{
		{"StoredWithUpdate", testOutboxStored},
		{"PayloadRoundTrip", testOutboxPayloads},
		{"CopiesInAndOut", testOutboxCopies},
		{"ClaimHeadsOnly", testOutboxClaimHeads},
		{"HeadIsLowestSeq", testOutboxHeadLowestSeq},
		{"HeadNotDueBlocks", testOutboxHeadNotDue},
		{"ClaimLimit", testOutboxClaimLimit},
		{"ChannelsIndependent", testOutboxChannels},
		{"Ack", testOutboxAck},
		{"AckAfterExpiryWithoutReclaim", testOutboxAckAfterExpiry},
		{"LeaseExpiry", testOutboxLeaseExpiry},
		{"RescheduleRetry", testOutboxReschedule},
		{"RescheduleDead", testOutboxDead},
		{"Redeliver", testOutboxRedeliver},
		{"NotFound", testOutboxNotFound},
		{"ListDeliveries", testOutboxList},
		{"ConcurrentClaimsDisjoint", testOutboxConcurrentClaims},
		{"ConcurrentAckOnce", testOutboxConcurrentAck},
	}
}

// claim claims deliveries and fails on error.
func (f *fixture) claim(now time.Time, limit int) []*invoice.Delivery {
	f.t.Helper()
	ds, err := f.s.ClaimDeliveries(ctx(), now, lease, limit)
	require.NoError(f.t, err, "ClaimDeliveries(%s, %s, %d)", now, lease, limit)
	require.LessOrEqual(f.t, len(ds), limit)
	return ds
}

// claimOne claims at now and requires exactly the delivery want, checking
// its contents and lease; it returns the claimed copy.
func (f *fixture) claimOne(now time.Time, want *invoice.Delivery) *invoice.Delivery {
	f.t.Helper()
	ds := f.claim(now, 100)
	require.Equal(f.t, []uuid.UUID{want.ID}, idsOf(ds), "claimed at %s", now)
	f.checkClaimed(now, want, ds[0])
	return ds[0]
}

// checkClaimed checks a claimed copy against the expected stored record
// and the store's view of its lease.
func (f *fixture) checkClaimed(now time.Time, want, got *invoice.Delivery) {
	f.t.Helper()
	requireDelivery(f.t, want, got, "claimed %s", want.ID)
	require.NotEqual(f.t, uuid.Nil, got.LeaseID, "claimed %s: LeaseID", want.ID)
	requireTime(f.t, now.Add(lease), got.LeaseUntil, "claimed LeaseUntil")
	require.Equal(f.t, invoice.DeliveryPending, got.State)
	held := f.getDelivery(want.ID)
	require.Equal(f.t, got.LeaseID, held.LeaseID, "stored LeaseID")
	requireTime(f.t, now.Add(lease), held.LeaseUntil, "stored LeaseUntil")
}

func (f *fixture) getDelivery(id uuid.UUID) *invoice.Delivery {
	f.t.Helper()
	d, err := f.s.GetDelivery(ctx(), id)
	require.NoError(f.t, err, "GetDelivery %s", id)
	return d
}

func (f *fixture) ack(d *invoice.Delivery, a invoice.Attempt) {
	f.t.Helper()
	require.NoError(f.t, f.s.AckDelivery(ctx(), d.ID, d.LeaseID, a), "AckDelivery %s", d.ID)
}

// queueOf creates an invoice and stores n merchant deliveries (Seq 1…n,
// due at base) with it.
func (f *fixture) queueOf(n int) (*invoice.Invoice, []*invoice.Delivery) {
	f.t.Helper()
	inv := f.create()
	ds := make([]*invoice.Delivery, n)
	for i := range ds {
		ds[i] = f.newDelivery(inv, invoice.ChannelMerchant, int64(i+1), base)
	}
	f.update(inv, ds...)
	return inv, ds
}

func testOutboxStored(f *fixture) {
	t := f.t
	inv := f.create()
	m1 := f.newDelivery(inv, invoice.ChannelMerchant, 1, base.Add(-time.Second))
	m1.Callback = fullCallback(inv)
	c1 := f.newDelivery(inv, invoice.ChannelCustomer, 2, base)
	m2 := f.newDelivery(inv, invoice.ChannelMerchant, 3, base.Add(time.Microsecond))
	f.update(inv, m1, c1, m2)
	require.Equal(t, int64(2), f.get(inv.ID).Version)

	for _, d := range []*invoice.Delivery{m1, c1, m2} {
		got := f.getDelivery(d.ID)
		requireDelivery(t, d, got)
		require.Equal(t, uuid.Nil, got.LeaseID, "never claimed")
		require.True(t, got.LeaseUntil.IsZero(), "never claimed")
	}
	all, err := f.s.ListDeliveries(ctx(), invoice.DeliveryQuery{Limit: 10})
	require.NoError(t, err)
	require.Equal(t, sortedIDs(m1.ID, c1.ID, m2.ID), idsOf(all))

	// An update with an empty outbox adds nothing.
	inv.Title = "no outbox"
	f.update(inv)
	all, err = f.s.ListDeliveries(ctx(), invoice.DeliveryQuery{Limit: 10})
	require.NoError(t, err)
	require.Len(t, all, 3)
}

func testOutboxPayloads(f *fixture) {
	t := f.t
	inv := f.create()
	empty := f.newDelivery(inv, invoice.ChannelMerchant, 1, base) // [] lists
	full := f.newDelivery(inv, invoice.ChannelMerchant, 2, base)
	full.Callback = fullCallback(inv)
	nilLists := f.newDelivery(inv, invoice.ChannelMerchant, 3, base)
	nilLists.Callback.Transactions, nilLists.Callback.Fees = nil, nil
	notice := f.newDelivery(inv, invoice.ChannelCustomer, 4, base)
	notice.Notice.Amount = dec("0.123456789012345678")
	payout := f.newDelivery(inv, invoice.ChannelPayout, 5, base)
	payout.Payout.Amount = dec("0.000000000000000001")
	f.update(inv, empty, full, nilLists, notice, payout)

	check := func(where string, got *invoice.Delivery) {
		t.Helper()
		switch got.ID {
		case empty.ID:
			requireDelivery(t, empty, got, where)
			require.NotNil(t, got.Callback.Transactions, "%s: empty Transactions must stay non-nil", where)
			require.NotNil(t, got.Callback.Fees, "%s: empty Fees must stay non-nil", where)
			b, err := json.Marshal(got.Callback)
			require.NoError(t, err)
			require.Contains(t, string(b), `"transactions":[]`, where)
			require.Contains(t, string(b), `"fees":[]`, where)
		case full.ID:
			requireDelivery(t, full, got, where)
			requireDecimal(t, dec("0.123456789012345678"), got.Callback.CurrencySent.Amount.Decimal, where+" CurrencySent.Amount")
			requireDecimal(t, dec("0.00100000"), got.Callback.CurrencySent.RemainingAmount.Decimal, where+" RemainingAmount")
			requireDecimal(t, dec("123456789012.12"), got.Callback.CurrencyReceived.Amount.Decimal, where+" CurrencyReceived.Amount")
		case nilLists.ID:
			requireDelivery(t, nilLists, got, where)
		case notice.ID:
			requireDelivery(t, notice, got, where)
			require.Nil(t, got.Callback)
			requireDecimal(t, dec("0.123456789012345678"), got.Notice.Amount, where+" Notice.Amount")
		case payout.ID:
			requireDelivery(t, payout, got, where)
			require.Nil(t, got.Callback)
			require.Nil(t, got.Notice)
			require.NotNil(t, got.Payout, where)
			requireDecimal(t, dec("0.000000000000000001"), got.Payout.Amount, where+" Payout.Amount")
			requireTime(t, payout.Payout.RedeemedAt, got.Payout.RedeemedAt, where+" Payout.RedeemedAt")
		default:
			t.Fatalf("%s: unexpected delivery %s", where, got.ID)
		}
	}
	for _, d := range []*invoice.Delivery{empty, full, nilLists, notice, payout} {
		check("GetDelivery", f.getDelivery(d.ID))
	}
	list, err := f.s.ListDeliveries(ctx(), invoice.DeliveryQuery{InvoiceID: inv.ID, Limit: 10})
	require.NoError(t, err)
	require.Len(t, list, 5)
	for _, d := range list {
		check("ListDeliveries", d)
	}
	// The heads of the three channels: empty (merchant), notice
	// (customer) and payout.
	claimed := f.claim(base, 10)
	require.Equal(t, sortedIDs(empty.ID, notice.ID, payout.ID), deliveryIDs(claimed))
	for _, d := range claimed {
		check("ClaimDeliveries", d)
	}
}

func testOutboxCopies(f *fixture) {
	t := f.t
	inv := f.create()
	m := f.newDelivery(inv, invoice.ChannelMerchant, 1, base)
	m.Callback = fullCallback(inv)
	c := f.newDelivery(inv, invoice.ChannelCustomer, 2, base)
	p := f.newDelivery(inv, invoice.ChannelPayout, 3, base)
	wantM, wantC, wantP := m.Clone(), c.Clone(), p.Clone()
	f.update(inv, m, c, p) // the store owns m, c and p now (see Store.UpdateInvoice)
	requireDelivery(t, wantM, f.getDelivery(m.ID), "the stored delivery differs from the one passed")
	requireDelivery(t, wantC, f.getDelivery(c.ID), "the stored delivery differs from the one passed")
	requireDelivery(t, wantP, f.getDelivery(p.ID), "the stored delivery differs from the one passed")

	mutateDelivery(f.getDelivery(m.ID))
	list, err := f.s.ListDeliveries(ctx(), invoice.DeliveryQuery{Limit: 10})
	require.NoError(t, err)
	for _, d := range list {
		mutateDelivery(d)
	}
	claimed := f.claim(base, 10)
	require.Len(t, claimed, 3)
	leases := map[uuid.UUID]uuid.UUID{}
	for _, d := range claimed {
		leases[d.ID] = d.LeaseID
		mutateDelivery(d)
	}
	for _, want := range []*invoice.Delivery{wantM, wantC, wantP} {
		got := f.getDelivery(want.ID)
		requireDelivery(t, want, got, "mutating a returned delivery changed the stored one")
		require.Equal(t, leases[want.ID], got.LeaseID)
	}
}

// mutateDelivery changes every reachable part of a delivery in place.
func mutateDelivery(d *invoice.Delivery) {
	d.State = invoice.DeliveryDead
	d.Seq = 999
	d.LeaseID = uuid.Nil
	d.Attempts = append(d.Attempts, invoice.Attempt{Error: "mutated"})
	if cb := d.Callback; cb != nil {
		cb.ForeignID = "mutated"
		cb.CurrencySent.Amount = invoice.Amount{Decimal: dec("666")}
		if len(cb.Transactions) > 0 {
			cb.Transactions[0].TxID = "mutated"
		}
		if len(cb.Fees) > 0 {
			cb.Fees[0].Type = "mutated"
		}
		cb.Transactions = append(cb.Transactions, invoice.CallbackTransaction{TxID: "appended"})
		cb.Fees = append(cb.Fees, invoice.CallbackFee{Type: "appended"})
	}
	if n := d.Notice; n != nil {
		n.Email = "mutated@example.com"
		n.Reason = "mutated"
	}
	if p := d.Payout; p != nil {
		p.Destination = "mutated"
		p.Amount = dec("666")
	}
}

func testOutboxClaimHeads(f *fixture) {
	t := f.t
	x := f.create()
	m1 := f.newDelivery(x, invoice.ChannelMerchant, 1, base.Add(-3*time.Second))
	m2 := f.newDelivery(x, invoice.ChannelMerchant, 2, base.Add(-2*time.Second))
	m3 := f.newDelivery(x, invoice.ChannelMerchant, 3, base.Add(-time.Second))
	c1 := f.newDelivery(x, invoice.ChannelCustomer, 4, base)
	f.update(x, m1, m2, m3, c1)
	y := f.create()
	y1 := f.newDelivery(y, invoice.ChannelMerchant, 1, base.Add(-time.Hour))
	f.update(y, y1)

	claimed := f.claim(base, 10)
	require.Equal(t, sortedIDs(m1.ID, c1.ID, y1.ID), deliveryIDs(claimed), "only the head of each invoice and channel")
	want := map[uuid.UUID]*invoice.Delivery{m1.ID: m1, c1.ID: c1, y1.ID: y1}
	leases := map[uuid.UUID]bool{}
	for _, d := range claimed {
		f.checkClaimed(base, want[d.ID], d)
		require.False(t, leases[d.LeaseID], "lease IDs must differ")
		leases[d.LeaseID] = true
	}
	require.Empty(t, f.claim(base, 10), "held heads block their queues")
	require.Empty(t, f.claim(base.Add(lease-time.Microsecond), 10), "held until now+lease")
}

func testOutboxHeadLowestSeq(f *fixture) {
	t := f.t
	inv := f.create()
	// Passed out of Seq order, in one update and across two.
	m3 := f.newDelivery(inv, invoice.ChannelMerchant, 30, base)
	m2 := f.newDelivery(inv, invoice.ChannelMerchant, 20, base)
	f.update(inv, m3, m2)
	m1 := f.newDelivery(inv, invoice.ChannelMerchant, 10, base)
	f.update(inv, m1)
	for _, d := range []*invoice.Delivery{m1, m2, m3} {
		got := f.claimOne(base, d)
		f.ack(got, attempt(1, ""))
	}
	require.Empty(t, f.claim(base, 10))
}

func testOutboxHeadNotDue(f *fixture) {
	t := f.t
	inv := f.create()
	m1 := f.newDelivery(inv, invoice.ChannelMerchant, 1, base.Add(time.Minute))
	m2 := f.newDelivery(inv, invoice.ChannelMerchant, 2, base.Add(-time.Minute)) // due, but behind m1
	f.update(inv, m1, m2)
	require.Empty(t, f.claim(base, 10), "the head is not due, and it blocks the rest")
	require.Empty(t, f.claim(base.Add(time.Minute-time.Microsecond), 10))
	f.claimOne(base.Add(time.Minute), m1) // due at exactly NextAttemptAt
}

func testOutboxClaimLimit(f *fixture) {
	t := f.t
	var want []uuid.UUID
	for i := range 5 {
		inv := f.create()
		d := f.newDelivery(inv, invoice.ChannelMerchant, 1, base.Add(-time.Duration(i)*time.Second))
		f.update(inv, d)
		want = append(want, d.ID)
	}
	var got []*invoice.Delivery
	for _, n := range []int{2, 2, 1} {
		page := f.claim(base, 2)
		require.Len(t, page, n)
		got = append(got, page...)
	}
	require.Empty(t, f.claim(base, 2))
	require.Equal(t, sortedIDs(want...), deliveryIDs(got), "each claimed once")
}

func testOutboxChannels(f *fixture) {
	t := f.t
	inv := f.create()
	m1 := f.newDelivery(inv, invoice.ChannelMerchant, 1, base)
	m2 := f.newDelivery(inv, invoice.ChannelMerchant, 2, base)
	c1 := f.newDelivery(inv, invoice.ChannelCustomer, 3, base)
	c2 := f.newDelivery(inv, invoice.ChannelCustomer, 4, base)
	f.update(inv, m1, m2, c1, c2)

	claimed := f.claim(base, 10)
	require.Equal(t, sortedIDs(m1.ID, c1.ID), deliveryIDs(claimed))
	byID := map[uuid.UUID]*invoice.Delivery{}
	for _, d := range claimed {
		byID[d.ID] = d
	}
	f.ack(byID[c1.ID], attempt(1, ""))
	gotC2 := f.claimOne(base, c2) // m1 still held, m2 behind it
	f.ack(byID[m1.ID], attempt(2, ""))
	f.claimOne(base, m2)
	f.ack(gotC2, attempt(3, ""))
	require.Empty(t, f.claim(base, 10), "m2 is held; the customer channel is done")
}

func testOutboxAck(f *fixture) {
	t := f.t
	_, ds := f.queueOf(3)
	m1, m2, m3 := ds[0], ds[1], ds[2]
	got := f.claimOne(base, m1)

	require.ErrorIs(t, f.s.AckDelivery(ctx(), m1.ID, f.nextOtherID(), attempt(1, "")), invoice.ErrLeaseLost, "wrong lease")
	require.ErrorIs(t, f.s.AckDelivery(ctx(), m1.ID, uuid.Nil, attempt(1, "")), invoice.ErrLeaseLost, "nil lease")
	require.ErrorIs(t, f.s.AckDelivery(ctx(), m3.ID, got.LeaseID, attempt(1, "")), invoice.ErrLeaseLost, "another delivery's lease")
	require.ErrorIs(t, f.s.AckDelivery(ctx(), m3.ID, uuid.Nil, attempt(1, "")), invoice.ErrLeaseLost, "never claimed")

	a := attempt(1, "")
	f.ack(got, a)
	acked := f.getDelivery(m1.ID)
	requireDelivery(t, stored(m1, func(d *invoice.Delivery) {
		d.State = invoice.DeliveryDelivered
		d.Attempts = []invoice.Attempt{a}
	}), acked)

	require.ErrorIs(t, f.s.AckDelivery(ctx(), m1.ID, got.LeaseID, attempt(2, "")), invoice.ErrLeaseLost, "already settled")
	require.ErrorIs(t, f.s.RescheduleDelivery(ctx(), m1.ID, got.LeaseID, attempt(2, "x"), base, false), invoice.ErrLeaseLost, "already settled")
	requireDelivery(t, acked, f.getDelivery(m1.ID), "refused calls change nothing")

	next := f.claimOne(base, m2) // the next of the queue
	f.ack(next, attempt(3, ""))
	f.claimOne(base, m3)
}

func testOutboxAckAfterExpiry(f *fixture) {
	t := f.t
	_, ds := f.queueOf(1)
	got := f.claimOne(base, ds[0])
	// The lease ran out long ago, but nobody claimed the delivery since:
	// the lease ID still holds it (a Store takes the time only from its
	// arguments).
	a := attempt(120, "")
	f.ack(got, a)
	require.Equal(t, invoice.DeliveryDelivered, f.getDelivery(ds[0].ID).State)
	require.Equal(t, []invoice.Attempt{a}, f.getDelivery(ds[0].ID).Attempts)
}

func testOutboxLeaseExpiry(f *fixture) {
	t := f.t
	_, ds := f.queueOf(2)
	m1, m2 := ds[0], ds[1]
	first := f.claimOne(base, m1)
	require.Empty(t, f.claim(base.Add(lease/2), 10))

	second := f.claimOne(base.Add(lease), m1) // the lease ran out: claimable again
	require.NotEqual(t, first.LeaseID, second.LeaseID, "a new lease ID per claim")

	require.ErrorIs(t, f.s.AckDelivery(ctx(), m1.ID, first.LeaseID, attempt(1, "")), invoice.ErrLeaseLost)
	require.ErrorIs(t, f.s.RescheduleDelivery(ctx(), m1.ID, first.LeaseID, attempt(1, "x"), base, false), invoice.ErrLeaseLost)
	require.ErrorIs(t, f.s.RescheduleDelivery(ctx(), m1.ID, first.LeaseID, attempt(1, "x"), base, true), invoice.ErrLeaseLost)
	held := f.getDelivery(m1.ID)
	require.Equal(t, invoice.DeliveryPending, held.State)
	require.Empty(t, held.Attempts, "refused calls record nothing")
	require.Equal(t, second.LeaseID, held.LeaseID)
	requireTime(t, base.Add(2*lease), held.LeaseUntil, "LeaseUntil")

	f.ack(second, attempt(2, ""))
	f.claimOne(base.Add(lease), m2)
}

func testOutboxReschedule(f *fixture) {
	t := f.t
	_, ds := f.queueOf(2)
	m1, m2 := ds[0], ds[1]
	got := f.claimOne(base, m1)

	a1 := attempt(1, "HTTP 500")
	require.NoError(t, f.s.RescheduleDelivery(ctx(), m1.ID, got.LeaseID, a1, base.Add(30*time.Second), false))
	want := stored(m1, func(d *invoice.Delivery) {
		d.NextAttemptAt = base.Add(30 * time.Second)
		d.Attempts = []invoice.Attempt{a1}
	})
	requireDelivery(t, want, f.getDelivery(m1.ID))

	require.Empty(t, f.claim(base.Add(30*time.Second-time.Microsecond), 10), "not due yet; m2 stays behind m1")
	// Released: claimable at the new time although the old lease would
	// still run until base+lease.
	again := f.claimOne(base.Add(30*time.Second), want)
	require.NotEqual(t, got.LeaseID, again.LeaseID)
	require.ErrorIs(t, f.s.RescheduleDelivery(ctx(), m1.ID, got.LeaseID, attempt(2, "x"), base, false), invoice.ErrLeaseLost)

	a2 := attempt(2, "timeout")
	require.NoError(t, f.s.RescheduleDelivery(ctx(), m1.ID, again.LeaseID, a2, base.Add(time.Hour), false))
	want.NextAttemptAt = base.Add(time.Hour)
	want.Attempts = []invoice.Attempt{a1, a2}
	requireDelivery(t, want, f.getDelivery(m1.ID), "attempts in order")

	third := f.claimOne(base.Add(time.Hour), want)
	a3 := attempt(3, "")
	f.ack(third, a3)
	want.State = invoice.DeliveryDelivered
	want.Attempts = []invoice.Attempt{a1, a2, a3}
	requireDelivery(t, want, f.getDelivery(m1.ID), "attempts in order")
	f.claimOne(base.Add(time.Hour), m2)
}

func testOutboxDead(f *fixture) {
	t := f.t
	_, ds := f.queueOf(2)
	m1, m2 := ds[0], ds[1]
	got := f.claimOne(base, m1)
	a := attempt(1, "HTTP 410")
	require.NoError(t, f.s.RescheduleDelivery(ctx(), m1.ID, got.LeaseID, a, base, true))
	dead := f.getDelivery(m1.ID)
	require.Equal(t, invoice.DeliveryDead, dead.State)
	require.Equal(t, []invoice.Attempt{a}, dead.Attempts)

	next := f.claimOne(base, m2) // no longer blocked
	require.ErrorIs(t, f.s.AckDelivery(ctx(), m1.ID, got.LeaseID, attempt(2, "")), invoice.ErrLeaseLost, "dead is settled")
	list, err := f.s.ListDeliveries(ctx(), invoice.DeliveryQuery{State: invoice.DeliveryDead, Limit: 10})
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{m1.ID}, idsOf(list))
	f.ack(next, attempt(3, ""))
	require.Empty(t, f.claim(base.Add(24*time.Hour), 10), "a dead delivery is never claimed")
	require.Equal(t, invoice.DeliveryDead, f.getDelivery(m1.ID).State)
}

func testOutboxRedeliver(f *fixture) {
	t := f.t
	_, ds := f.queueOf(3)
	d1, d2, d3 := ds[0], ds[1], ds[2]

	c1 := f.claimOne(base, d1)
	a1 := attempt(1, "HTTP 500")
	require.NoError(t, f.s.RescheduleDelivery(ctx(), d1.ID, c1.LeaseID, a1, base, true))
	c2 := f.claimOne(base, d2)
	a2 := attempt(2, "")
	f.ack(c2, a2)
	// Now d1 is dead, d2 delivered, d3 pending and due.

	t1 := base.Add(time.Hour)
	require.NoError(t, f.s.RedeliverDelivery(ctx(), d2.ID, t1))
	want2 := stored(d2, func(d *invoice.Delivery) {
		d.NextAttemptAt = t1
		d.Attempts = []invoice.Attempt{a2}
	})
	requireDelivery(t, want2, f.getDelivery(d2.ID), "delivered → pending, due now, attempts kept")

	// d2 is back before d3 in its queue.
	r2 := f.claimOne(t1, want2)
	require.NotEqual(t, c2.LeaseID, r2.LeaseID)
	a3 := attempt(3, "")
	f.ack(r2, a3)

	r3 := f.claimOne(t1, d3)
	require.NoError(t, f.s.RescheduleDelivery(ctx(), d3.ID, r3.LeaseID, attempt(4, "x"), t1, false)) // pending, due at t1

	t2 := t1.Add(10 * time.Minute)
	require.NoError(t, f.s.RedeliverDelivery(ctx(), d1.ID, t2))
	want1 := stored(d1, func(d *invoice.Delivery) {
		d.NextAttemptAt = t2
		d.Attempts = []invoice.Attempt{a1}
	})
	requireDelivery(t, want1, f.getDelivery(d1.ID), "dead → pending, due now, attempts kept")
	f.claimOne(t2, want1) // d1 heads the queue again, ahead of the due d3

	got, err := f.s.ListDeliveries(ctx(), invoice.DeliveryQuery{State: invoice.DeliveryDead, Limit: 10})
	require.NoError(t, err)
	require.Empty(t, got)
}

func testOutboxNotFound(f *fixture) {
	t := f.t
	f.queueOf(1)
	missing := f.nextOtherID()
	_, err := f.s.GetDelivery(ctx(), missing)
	require.ErrorIs(t, err, invoice.ErrNotFound)
	require.ErrorIs(t, f.s.AckDelivery(ctx(), missing, f.nextOtherID(), attempt(1, "")), invoice.ErrNotFound)
	require.ErrorIs(t, f.s.RescheduleDelivery(ctx(), missing, f.nextOtherID(), attempt(1, "x"), base, false), invoice.ErrNotFound)
	require.ErrorIs(t, f.s.RescheduleDelivery(ctx(), missing, f.nextOtherID(), attempt(1, "x"), base, true), invoice.ErrNotFound)
	require.ErrorIs(t, f.s.RedeliverDelivery(ctx(), missing, base), invoice.ErrNotFound)
	list, err := f.s.ListDeliveries(ctx(), invoice.DeliveryQuery{InvoiceID: f.nextOtherID(), Limit: 10})
	require.NoError(t, err)
	require.Empty(t, list)
}

func testOutboxList(f *fixture) {
	t := f.t
	a := f.create()
	b := f.create()
	// IDs interleave across invoices and do not follow Seq.
	mk := func(inv *invoice.Invoice, ch invoice.Channel, seq int64, n int) *invoice.Delivery {
		d := f.newDelivery(inv, ch, seq, base)
		d.ID = testID(kindDelivery+uint16(n), n)
		return d
	}
	a1 := mk(a, invoice.ChannelMerchant, 1, 5)
	a2 := mk(a, invoice.ChannelMerchant, 2, 2)
	a3 := mk(a, invoice.ChannelMerchant, 3, 7)
	ac1 := mk(a, invoice.ChannelCustomer, 4, 1)
	b1 := mk(b, invoice.ChannelMerchant, 1, 4)
	b2 := mk(b, invoice.ChannelMerchant, 2, 6)
	b3 := mk(b, invoice.ChannelMerchant, 3, 3)
	f.update(b, b3, b1) // Seq order is not insertion order
	f.update(a, a1, a2, ac1)
	f.update(a, a3)
	f.update(b, b2)

	// a1 and b1 delivered, ac1 dead.
	claimed := f.claim(base, 10)
	require.Equal(t, sortedIDs(a1.ID, ac1.ID, b1.ID), deliveryIDs(claimed))
	for _, d := range claimed {
		if d.ID == ac1.ID {
			require.NoError(t, f.s.RescheduleDelivery(ctx(), d.ID, d.LeaseID, attempt(1, "x"), base, true))
		} else {
			f.ack(d, attempt(1, ""))
		}
	}

	all := []*invoice.Delivery{a1, a2, a3, ac1, b1, b2, b3}
	state := map[uuid.UUID]invoice.DeliveryState{
		a1.ID: invoice.DeliveryDelivered, b1.ID: invoice.DeliveryDelivered, ac1.ID: invoice.DeliveryDead,
	}
	stateOf := func(d *invoice.Delivery) invoice.DeliveryState {
		if s, ok := state[d.ID]; ok {
			return s
		}
		return invoice.DeliveryPending
	}
	expect := func(q invoice.DeliveryQuery) []uuid.UUID {
		var ids []uuid.UUID
		for _, d := range all {
			if (q.InvoiceID == uuid.Nil || d.InvoiceID == q.InvoiceID) && (q.State == 0 || stateOf(d) == q.State) {
				ids = append(ids, d.ID)
			}
		}
		return sortedIDs(ids...)
	}

	for _, q := range []invoice.DeliveryQuery{
		{},
		{InvoiceID: a.ID},
		{InvoiceID: b.ID},
		{State: invoice.DeliveryPending},
		{State: invoice.DeliveryDelivered},
		{State: invoice.DeliveryDead},
		{InvoiceID: a.ID, State: invoice.DeliveryPending},
		{InvoiceID: a.ID, State: invoice.DeliveryDelivered},
		{InvoiceID: b.ID, State: invoice.DeliveryDead},
	} {
		want := expect(q)
		q.Limit = 100
		got, err := f.s.ListDeliveries(ctx(), q)
		require.NoError(t, err)
		require.Equal(t, want, idsOf(got), "query %+v", q)
		for _, d := range got {
			require.Equal(t, stateOf(d), d.State)
			requireDelivery(t, f.getDelivery(d.ID), d)
		}

		for _, limit := range []int{1, 2, 3} {
			var paged []uuid.UUID
			q.After, q.Limit = uuid.Nil, limit
			for pages := 0; ; pages++ {
				require.Less(t, pages, 10, "paging does not end")
				page, err := f.s.ListDeliveries(ctx(), q)
				require.NoError(t, err)
				require.LessOrEqual(t, len(page), limit)
				if len(page) == 0 {
					break
				}
				paged = append(paged, idsOf(page)...)
				q.After = page[len(page)-1].ID
			}
			require.Equal(t, want, paged, "query %+v paged by %d", q, limit)
		}
	}
}

func testOutboxConcurrentClaims(f *fixture) {
	t := f.t
	const n, claimers = 30, 6
	var want []uuid.UUID
	for range n {
		_, ds := f.queueOf(2) // the second is behind the first: never claimable here
		want = append(want, ds[0].ID)
	}
	var (
		mu  sync.Mutex
		got []*invoice.Delivery
	)
	errs := concurrently(claimers, func(int) error {
		for range n { // bounded, in case claims never run dry
			ds, err := f.s.ClaimDeliveries(ctx(), base, lease, 4)
			if err != nil {
				return err
			}
			if len(ds) == 0 {
				return nil
			}
			mu.Lock()
			got = append(got, ds...)
			mu.Unlock()
		}
		return nil
	})
	for i, err := range errs {
		require.NoError(t, err, "claimer %d", i)
	}
	require.Equal(t, sortedIDs(want...), deliveryIDs(got), "every head claimed exactly once")
}

func testOutboxConcurrentAck(f *fixture) {
	t := f.t
	const n = 10
	_, ds := f.queueOf(1)
	got := f.claimOne(base, ds[0])
	errs := concurrently(n, func(i int) error {
		if i%2 == 0 {
			return f.s.AckDelivery(ctx(), got.ID, got.LeaseID, attempt(i, ""))
		}
		return f.s.RescheduleDelivery(ctx(), got.ID, got.LeaseID, attempt(i, "x"), base, false)
	})
	winner := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, winner, "two settled the same lease: %d and %d", winner, i)
			winner = i
			continue
		}
		require.ErrorIs(t, err, invoice.ErrLeaseLost, "call %d", i)
	}
	require.NotEqual(t, -1, winner)
	d := f.getDelivery(got.ID)
	require.Len(t, d.Attempts, 1, "exactly one attempt recorded")
	require.Equal(t, winner, int(d.Attempts[0].At.Sub(base)/time.Second))
}
