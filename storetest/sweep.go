package storetest

import (
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	invoice "github.com/cryptoinvoice/invoice"
)

func sweepCases() []testCase {
	return []testCase{
		{"DueOnly", testSweepDueOnly},
		{"DeadlineOrder", testSweepDeadlineOrder},
		{"Limit", testSweepLimit},
		{"Lease", testSweepLease},
		{"UpdateEndsHold", testSweepUpdate},
		{"UpdateMakesDue", testSweepUpdateMakesDue},
		{"ConcurrentClaimsDisjoint", testSweepConcurrent},
		{"ClaimedCopies", testSweepClaimedCopies},
	}
}

// claimDue claims due invoices, fails on error, checks that each claimed
// copy is the stored invoice and returns their IDs in claim order.
func (f *fixture) claimDue(now time.Time, lease time.Duration, limit int) []uuid.UUID {
	f.t.Helper()
	claimed, err := f.s.ClaimDueInvoices(ctx(), now, lease, limit)
	require.NoError(f.t, err, "ClaimDueInvoices(%s, %s, %d)", now, lease, limit)
	require.LessOrEqual(f.t, len(claimed), limit)
	for _, inv := range claimed {
		require.NotNil(f.t, inv, "ClaimDueInvoices returned a nil invoice")
		requireSame(f.t, f.get(inv.ID), inv, "a claimed invoice is the stored one, version included")
	}
	return invoiceIDs(claimed)
}

func testSweepDueOnly(f *fixture) {
	t := f.t
	// Created out of deadline order.
	c := f.create(withDeadline(base), withStatus(invoice.StatusProcessing)) // due exactly now
	f.create(withDeadline(base.Add(time.Microsecond)))                      // not yet due
	a := f.create(withDeadline(base.Add(-3*time.Minute)), withStatus(invoice.StatusPending))
	f.create()                                                                             // no deadline
	f.create(withDeadline(base.Add(-10*time.Minute)), withStatus(invoice.StatusConfirmed)) // final
	f.create(withDeadline(base.Add(-5*time.Minute)), withStatus(invoice.StatusFailed))     // final
	b := f.create(withDeadline(base.Add(-time.Minute)))

	require.Equal(t, []uuid.UUID{a.ID, b.ID, c.ID}, f.claimDue(base, time.Minute, 10))
}

func testSweepDeadlineOrder(f *fixture) {
	t := f.t
	// 30 due invoices whose deadlines are a permutation of their creation
	// (and ID) order.
	const n = 30
	byDeadline := make([]uuid.UUID, n)
	for i := range n {
		k := (i*7 + 3) % n // a permutation of 0..n-1
		inv := f.create(withDeadline(base.Add(-time.Duration(n-k) * time.Second)))
		byDeadline[k] = inv.ID
	}
	var got []uuid.UUID
	for range 3 {
		got = append(got, f.claimDue(base, time.Minute, 10)...)
	}
	require.Equal(t, byDeadline, got)
	require.Empty(t, f.claimDue(base, time.Minute, 10))
}

func testSweepLimit(f *fixture) {
	t := f.t
	ids := make([]uuid.UUID, 5)
	for _, k := range []int{3, 0, 4, 1, 2} {
		ids[k] = f.create(withDeadline(base.Add(-time.Duration(5-k) * time.Minute))).ID
	}
	require.Equal(t, ids[:2], f.claimDue(base, time.Minute, 2))
	require.Equal(t, ids[2:3], f.claimDue(base, time.Minute, 1))
	require.Equal(t, ids[3:], f.claimDue(base, time.Minute, 10))
	require.Empty(t, f.claimDue(base, time.Minute, 10))
}

func testSweepLease(f *fixture) {
	t := f.t
	const lease = time.Minute
	b := f.create(withDeadline(base.Add(-time.Minute)))
	a := f.create(withDeadline(base.Add(-2 * time.Minute)))
	want := []uuid.UUID{a.ID, b.ID}

	require.Equal(t, want, f.claimDue(base, lease, 10))
	require.Empty(t, f.claimDue(base, lease, 10), "held")
	require.Empty(t, f.claimDue(base.Add(30*time.Second), lease, 10), "held")
	require.Empty(t, f.claimDue(base.Add(lease-time.Microsecond), lease, 10), "held until now+lease")
	require.ElementsMatch(t, want, f.claimDue(base.Add(lease), lease, 10), "claimable again when the lease ends")
	require.Empty(t, f.claimDue(base.Add(lease+time.Second), lease, 10), "held by the second claim")
	require.ElementsMatch(t, want, f.claimDue(base.Add(2*lease), lease, 10), "claimable again")

	// Claiming does not change the invoice.
	got := f.get(a.ID)
	require.Equal(t, int64(1), got.Version)
	requireTime(t, base.Add(-2*time.Minute), got.Deadline, "Deadline")
}

func testSweepUpdate(f *fixture) {
	t := f.t
	const lease = time.Minute
	a := f.create(withDeadline(base.Add(-5 * time.Minute)))
	b := f.create(withDeadline(base.Add(-4 * time.Minute)))
	c := f.create(withDeadline(base.Add(-3 * time.Minute)))
	d := f.create(withDeadline(base.Add(-2 * time.Minute)))
	e := f.create(withDeadline(base.Add(-1 * time.Minute)))
	require.Equal(t, []uuid.UUID{a.ID, b.ID, c.ID, d.ID, e.ID}, f.claimDue(base, lease, 10))

	cleared := f.get(a.ID) // deadline cleared: never due again
	cleared.Deadline = time.Time{}
	f.update(cleared)
	final := f.get(b.ID) // final status with the deadline left set: never due again
	final.Status = invoice.StatusFailed
	f.update(final)
	later := f.get(c.ID) // deadline moved later: due then
	later.Deadline = base.Add(time.Hour)
	f.update(later)
	touched := f.get(d.ID) // deadline kept: the update ends the hold
	touched.Title = "touched"
	f.update(touched)

	require.Equal(t, []uuid.UUID{d.ID}, f.claimDue(base.Add(10*time.Second), lease, 10),
		"an update ends the hold; cleared, final and postponed invoices are not due")
	require.Equal(t, []uuid.UUID{e.ID}, f.claimDue(base.Add(lease), lease, 10), "e's lease ran out")
	require.Empty(t, f.claimDue(base.Add(lease+time.Second), lease, 10))
	require.Equal(t, []uuid.UUID{d.ID}, f.claimDue(base.Add(lease+10*time.Second), lease, 10), "d's lease ran out")

	// Later, d's and e's leases have run out (so their order is no longer
	// by deadline alone: compare as sets), while c is not due before its
	// new deadline.
	require.ElementsMatch(t, []uuid.UUID{d.ID, e.ID}, f.claimDue(base.Add(time.Hour-time.Microsecond), lease, 10),
		"c is not due before its new deadline")
	require.Equal(t, []uuid.UUID{c.ID}, f.claimDue(base.Add(time.Hour), lease, 10), "c is due at its new deadline")
	require.ElementsMatch(t, []uuid.UUID{c.ID, d.ID, e.ID}, f.claimDue(base.Add(10*time.Hour), lease, 10),
		"cleared and final invoices never come back")
}

func testSweepUpdateMakesDue(f *fixture) {
	t := f.t
	a := f.create(withDeadline(base.Add(time.Hour)))
	b := f.create()
	require.Empty(t, f.claimDue(base, time.Minute, 10))

	cur := f.get(a.ID)
	cur.Deadline = base.Add(-time.Second)
	f.update(cur)
	cur = f.get(b.ID)
	cur.Deadline = base
	cur.Status = invoice.StatusProcessing
	f.update(cur)
	require.Equal(t, []uuid.UUID{a.ID, b.ID}, f.claimDue(base, time.Minute, 10))
}

func testSweepConcurrent(f *fixture) {
	t := f.t
	const n, claimers = 40, 8
	want := make([]uuid.UUID, n)
	for i := range n {
		want[i] = f.create(withDeadline(base.Add(-time.Duration(n-i) * time.Second))).ID
	}
	var (
		mu  sync.Mutex
		got []uuid.UUID
	)
	errs := concurrently(claimers, func(int) error {
		for range n { // bounded, in case claims never run dry
			claimed, err := f.s.ClaimDueInvoices(ctx(), base, time.Minute, 3)
			if err != nil {
				return err
			}
			if len(claimed) == 0 {
				return nil
			}
			mu.Lock()
			got = append(got, invoiceIDs(claimed)...)
			mu.Unlock()
		}
		return nil
	})
	for i, err := range errs {
		require.NoError(t, err, "claimer %d", i)
	}
	require.Len(t, got, n, "every due invoice claimed exactly once")
	require.ElementsMatch(t, want, got)
}

// testSweepClaimedCopies: a claimed invoice is a full copy of the stored
// one that the claimer may change and store with UpdateInvoice directly
// (the claim did not bump the version); changing the copy changes nothing
// stored.
func testSweepClaimedCopies(f *fixture) {
	t := f.t
	inv := f.fullInvoice()
	inv.Deadline = base.Add(-time.Minute)
	require.NoError(t, f.s.CreateInvoice(ctx(), inv))
	want := inv.Clone()

	claimed, err := f.s.ClaimDueInvoices(ctx(), base, time.Minute, 10)
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	requireSame(t, want, claimed[0])
	mutate(claimed[0])
	requireSame(t, want, f.get(want.ID), "mutating a claimed invoice changed the stored one")

	claimed, err = f.s.ClaimDueInvoices(ctx(), base.Add(time.Minute), time.Minute, 10)
	require.NoError(t, err)
	require.Len(t, claimed, 1, "claimable again once the lease ran out")
	next := claimed[0]
	next.Status = invoice.StatusFailed
	next.Error = invoice.ReasonNotPaid
	f.update(next)
	require.Equal(t, int64(2), next.Version)
	requireSame(t, next, f.get(want.ID))
	require.Empty(t, f.claimDue(base.Add(time.Hour), time.Minute, 10), "a failed invoice is never due")
}
