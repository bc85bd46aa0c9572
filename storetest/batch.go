package storetest

import (
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	invoice "github.com/cryptoinvoice/invoice"
)

func updateBatchCases() []testCase {
	return []testCase{
		{"AppliesEach", testBatchApplies},
		{"PerUpdateRefusals", testBatchRefusals},
		{"WholeBatchErrors", testBatchWholeErrors},
		{"EndsSweepHold", testBatchEndsHold},
		{"ConcurrentSameVersion", testBatchConcurrent},
		{"MixedWithSingleUpdates", testBatchAfterSingle},
	}
}

func settleCases() []testCase {
	return []testCase{
		{"AckRetryDead", testSettleOutcomes},
		{"LeaseLostAndNotFound", testSettleRefusals},
		{"WholeBatchErrors", testSettleWholeErrors},
		{"ConcurrentOnce", testSettleConcurrent},
	}
}

// failed returns a copy of inv changed as the sweep changes it.
func failed(inv *invoice.Invoice, at time.Time) *invoice.Invoice {
	cp := inv.Clone()
	cp.Status = invoice.StatusFailed
	cp.Error = "Timer expired. User not paid."
	cp.Deadline = time.Time{}
	cp.UpdatedAt = at
	return cp
}

func (f *fixture) updateBatch(batch ...invoice.InvoiceUpdate) []error {
	f.t.Helper()
	errs, err := f.s.UpdateInvoices(ctx(), batch)
	require.NoError(f.t, err, "UpdateInvoices")
	require.Len(f.t, errs, len(batch), "one result per update")
	return errs
}

func testBatchApplies(f *fixture) {
	t := f.t
	errs, err := f.s.UpdateInvoices(ctx(), nil)
	require.NoError(t, err)
	require.Empty(t, errs, "an empty batch")

	full := f.fullInvoice()
	require.NoError(t, f.s.CreateInvoice(ctx(), full))
	invs := []*invoice.Invoice{f.get(full.ID)}
	for range 3 {
		invs = append(invs, f.get(f.create(withDeadline(base.Add(-time.Minute)), withStatus(invoice.StatusPending)).ID))
	}
	var (
		batch []invoice.InvoiceUpdate
		want  []*invoice.Invoice
		outs  [][]*invoice.Delivery
	)
	for i, inv := range invs {
		next := failed(inv, base.Add(time.Duration(i)*time.Second))
		next.Title = fmt.Sprintf("batch %d", i)
		out := []*invoice.Delivery{f.newDelivery(next, invoice.ChannelMerchant, 2<<10, base)}
		if i == 0 { // two records, both channels
			out = append(out, f.newDelivery(next, invoice.ChannelCustomer, 2<<10|1, base))
		}
		w := next.Clone()
		w.Version = inv.Version + 1
		want, outs = append(want, w), append(outs, out)
		cp := make([]*invoice.Delivery, len(out))
		for k, d := range out {
			cp[k] = d.Clone() // the store owns what it is given
		}
		batch = append(batch, invoice.InvoiceUpdate{Invoice: next, Outbox: cp})
	}
	for i, err := range f.updateBatch(batch...) {
		require.NoError(t, err, "update %d", i)
		require.Equal(t, want[i].Version, batch[i].Invoice.Version, "Version set on the passed invoice")
	}
	for i, w := range want {
		requireSame(t, w, f.get(w.ID), "invoice %d as updated", i)
		for _, d := range outs[i] {
			requireDelivery(t, d, f.getDelivery(d.ID), "outbox of update %d", i)
		}
	}
	require.Empty(t, f.claimDue(base, time.Minute, 10), "failed invoices are not due")
	require.Len(t, f.claim(base, 10), 5, "every stored record is claimable")
}

func testBatchRefusals(f *fixture) {
	t := f.t
	good := f.get(f.create(withDeadline(base.Add(-time.Minute))).ID)
	stale := f.get(f.create().ID)
	moved := stale.Clone()
	moved.Title = "moved on"
	f.update(moved)
	rekeyed := f.get(f.create().ID)
	retokened := f.get(f.create().ID)
	ghost := f.newInvoice() // never created
	ghost.Version = 1

	upd := func(inv *invoice.Invoice, change func(*invoice.Invoice)) invoice.InvoiceUpdate {
		next := failed(inv, base)
		if change != nil {
			change(next)
		}
		return invoice.InvoiceUpdate{Invoice: next, Outbox: []*invoice.Delivery{f.newDelivery(next, invoice.ChannelMerchant, 2<<10, base)}}
	}
	batch := []invoice.InvoiceUpdate{
		upd(stale, nil),
		upd(good, nil),
		upd(ghost, nil),
		upd(rekeyed, func(inv *invoice.Invoice) { inv.ForeignID = "renamed" }),
		upd(retokened, func(inv *invoice.Invoice) { inv.CheckoutToken = "CTRENAMED" }),
	}
	errs := f.updateBatch(batch...)
	require.ErrorIs(t, errs[0], invoice.ErrConflict, "stale version")
	require.Equal(t, int64(1), batch[0].Invoice.Version, "a refused update leaves Version alone")
	require.NoError(t, errs[1], "the good update applies beside the refused ones")
	require.ErrorIs(t, errs[2], invoice.ErrNotFound, "no such invoice")
	require.NotErrorIs(t, errs[2], invoice.ErrConflict)
	for _, i := range []int{3, 4} {
		require.Error(t, errs[i], "a batch update may not change foreign_id or checkout token")
		require.NotErrorIs(t, errs[i], invoice.ErrConflict, "update %d", i)
	}

	require.Equal(t, invoice.StatusFailed, f.get(good.ID).Status)
	requireSame(t, moved, f.get(stale.ID), "refused: unchanged")
	requireSame(t, rekeyed, f.get(rekeyed.ID), "refused: unchanged")
	requireSame(t, retokened, f.get(retokened.ID), "refused: unchanged")
	_, err := f.s.GetInvoiceByForeignID(ctx(), "renamed")
	require.ErrorIs(t, err, invoice.ErrNotFound)
	for i, u := range batch {
		_, err := f.s.GetDelivery(ctx(), u.Outbox[0].ID)
		if i == 1 {
			require.NoError(t, err, "the applied update's outbox is stored")
		} else {
			require.ErrorIs(t, err, invoice.ErrNotFound, "a refused update's outbox is not stored (update %d)", i)
		}
	}
}

func testBatchWholeErrors(f *fixture) {
	t := f.t
	a, b := f.get(f.create().ID), f.get(f.create().ID)
	check := func(what string, batch []invoice.InvoiceUpdate) {
		t.Helper()
		_, err := f.s.UpdateInvoices(ctx(), batch)
		require.Error(t, err, what)
		requireSame(t, a, f.get(a.ID), "%s: nothing applied", what)
		requireSame(t, b, f.get(b.ID), "%s: nothing applied", what)
		all, err := f.s.ListDeliveries(ctx(), invoice.DeliveryQuery{Limit: 10})
		require.NoError(t, err)
		require.Empty(t, all, "%s: no outbox stored", what)
	}
	check("the same invoice twice", []invoice.InvoiceUpdate{
		{Invoice: failed(a, base)}, {Invoice: failed(b, base)}, {Invoice: failed(a, base)}})
	check("a nil invoice", []invoice.InvoiceUpdate{{Invoice: failed(a, base)}, {}})
	fa := failed(a, base)
	d := f.newDelivery(fa, invoice.ChannelMerchant, 2<<10, base)
	fb := failed(b, base)
	check("one delivery ID twice", []invoice.InvoiceUpdate{
		{Invoice: fa, Outbox: []*invoice.Delivery{d}}, {Invoice: fb, Outbox: []*invoice.Delivery{d.Clone()}}})
	require.Equal(t, int64(1), fa.Version, "Version left alone")

	// Hostile input (see invoice.Store): an invoice or outbox record that
	// fails CheckStorable refuses the whole batch with ErrValidation.
	unstorableBatch := func(what string, batch []invoice.InvoiceUpdate) {
		t.Helper()
		check(what, batch)
		_, err := f.s.UpdateInvoices(ctx(), batch)
		requireValidation(f, err, what)
	}
	bad := failed(b, base)
	bad.Title = "x\x00y"
	unstorableBatch("an unstorable invoice", []invoice.InvoiceUpdate{{Invoice: failed(a, base)}, {Invoice: bad}})
	fa = failed(a, base)
	d = f.newDelivery(fa, invoice.ChannelMerchant, 2<<10, base)
	d.Callback.ForeignID = "a\xffb"
	unstorableBatch("an unstorable outbox record", []invoice.InvoiceUpdate{
		{Invoice: fa, Outbox: []*invoice.Delivery{d}}, {Invoice: failed(b, base)}})
}

func testBatchEndsHold(f *fixture) {
	t := f.t
	const lease = time.Minute
	a := f.create(withDeadline(base.Add(-3 * time.Minute)))
	b := f.create(withDeadline(base.Add(-2 * time.Minute)))
	c := f.create(withDeadline(base.Add(-1 * time.Minute)))
	claimed, err := f.s.ClaimDueInvoices(ctx(), base, lease, 10)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{a.ID, b.ID, c.ID}, invoiceIDs(claimed))

	kept := claimed[1].Clone() // deadline kept: the update ends the hold
	kept.Title = "touched"
	later := claimed[2].Clone()
	later.Deadline = base.Add(time.Hour)
	f.updateBatch(invoice.InvoiceUpdate{Invoice: failed(claimed[0], base)},
		invoice.InvoiceUpdate{Invoice: kept}, invoice.InvoiceUpdate{Invoice: later})
	require.Equal(t, []uuid.UUID{b.ID}, f.claimDue(base.Add(time.Second), lease, 10),
		"the batch ends the holds; the failed and postponed invoices are not due")
	require.ElementsMatch(t, []uuid.UUID{b.ID, c.ID}, f.claimDue(base.Add(time.Hour), lease, 10),
		"the postponed invoice at its new deadline (and b, whose new hold ran out)")
}

func testBatchConcurrent(f *fixture) {
	t := f.t
	const writers, n = 8, 5
	var prior []*invoice.Invoice
	for range n {
		prior = append(prior, f.get(f.create().ID))
	}
	batches := make([][]invoice.InvoiceUpdate, writers)
	for w := range batches {
		for _, inv := range prior {
			next := inv.Clone()
			next.Title = fmt.Sprintf("writer %d", w)
			batches[w] = append(batches[w], invoice.InvoiceUpdate{Invoice: next,
				Outbox: []*invoice.Delivery{f.newDelivery(next, invoice.ChannelMerchant, 2<<10, base)}})
		}
	}
	results := make([][]error, writers)
	errs := concurrently(writers, func(w int) error {
		var err error
		results[w], err = f.s.UpdateInvoices(ctx(), batches[w])
		return err
	})
	for w, err := range errs {
		require.NoError(t, err, "writer %d", w)
	}
	for i, inv := range prior {
		winner := -1
		for w := range writers {
			if results[w][i] == nil {
				require.Equal(t, -1, winner, "invoice %d: two updates from version 1 applied", i)
				winner = w
				continue
			}
			require.ErrorIs(t, results[w][i], invoice.ErrConflict, "invoice %d, writer %d", i, w)
		}
		require.NotEqual(t, -1, winner, "invoice %d: no update applied", i)
		got := f.get(inv.ID)
		require.Equal(t, int64(2), got.Version)
		require.Equal(t, fmt.Sprintf("writer %d", winner), got.Title)
		ds, err := f.s.ListDeliveries(ctx(), invoice.DeliveryQuery{InvoiceID: inv.ID, Limit: 100})
		require.NoError(t, err)
		require.Equal(t, []uuid.UUID{batches[winner][i].Outbox[0].ID}, idsOf(ds), "exactly the winner's outbox")
	}
}

// Single and batched updates of the same invoices follow one another, each
// from the version the previous one left: whatever a store remembers of
// earlier reads must not leak into later writes.
func testBatchAfterSingle(f *fixture) {
	t := f.t
	inv := f.get(f.create(withDeadline(base.Add(-time.Minute))).ID)
	stale := inv.Clone() // read at version 1, kept
	inv.Title = "single"
	f.update(inv)
	cur := f.get(inv.ID)
	cur.Description = "batched"
	require.NoError(t, f.updateBatch(invoice.InvoiceUpdate{Invoice: cur})[0])
	again := cur.Clone()
	again.Title = "single again"
	f.update(again)
	want := again.Clone()
	requireSame(t, want, f.get(inv.ID), "every change kept")
	stale.Title = "stale"
	require.ErrorIs(t, f.updateBatch(invoice.InvoiceUpdate{Invoice: stale})[0], invoice.ErrConflict)
	require.ErrorIs(t, f.s.UpdateInvoice(ctx(), stale, nil), invoice.ErrConflict)
	requireSame(t, want, f.get(inv.ID))
}

func (f *fixture) settle(batch ...invoice.Settlement) []error {
	f.t.Helper()
	errs, err := f.s.SettleDeliveries(ctx(), batch)
	require.NoError(f.t, err, "SettleDeliveries")
	require.Len(f.t, errs, len(batch), "one result per settlement")
	return errs
}

func testSettleOutcomes(f *fixture) {
	t := f.t
	errs, err := f.s.SettleDeliveries(ctx(), nil)
	require.NoError(t, err)
	require.Empty(t, errs, "an empty batch")

	_, qa := f.queueOf(2)
	_, qb := f.queueOf(2)
	_, qc := f.queueOf(2)
	held := map[uuid.UUID]*invoice.Delivery{}
	for _, d := range f.claim(base, 10) {
		held[d.ID] = d
	}
	require.ElementsMatch(t, []uuid.UUID{qa[0].ID, qb[0].ID, qc[0].ID}, keys(held))
	a1, a2, a3 := attempt(1, ""), attempt(2, "HTTP 500"), attempt(3, "HTTP 500")
	next := base.Add(time.Hour)
	for i, err := range f.settle(
		invoice.Settlement{ID: qa[0].ID, LeaseID: held[qa[0].ID].LeaseID, Attempt: a1, State: invoice.DeliveryDelivered},
		invoice.Settlement{ID: qb[0].ID, LeaseID: held[qb[0].ID].LeaseID, Attempt: a2, State: invoice.DeliveryPending, NextAttemptAt: next},
		invoice.Settlement{ID: qc[0].ID, LeaseID: held[qc[0].ID].LeaseID, Attempt: a3, State: invoice.DeliveryDead},
	) {
		require.NoError(t, err, "settlement %d", i)
	}
	requireDelivery(t, stored(qa[0], func(d *invoice.Delivery) {
		d.State, d.Attempts = invoice.DeliveryDelivered, []invoice.Attempt{a1}
	}), f.getDelivery(qa[0].ID))
	retry := f.getDelivery(qb[0].ID)
	requireDelivery(t, stored(qb[0], func(d *invoice.Delivery) {
		d.NextAttemptAt, d.Attempts = next, []invoice.Attempt{a2}
	}), retry)
	require.Equal(t, uuid.Nil, retry.LeaseID, "lease released")
	require.True(t, retry.LeaseUntil.IsZero(), "lease released")
	requireDelivery(t, stored(qc[0], func(d *invoice.Delivery) {
		d.State, d.Attempts = invoice.DeliveryDead, []invoice.Attempt{a3}
	}), f.getDelivery(qc[0].ID))

	// Order per queue: behind the delivered and the dead head the next is
	// due; behind the rescheduled head nothing is until it is retried.
	behind := f.claim(base, 10)
	require.ElementsMatch(t, []uuid.UUID{qa[1].ID, qc[1].ID}, idsOf(behind))
	for _, d := range behind {
		f.ack(d, attempt(4, ""))
	}
	require.Equal(t, []uuid.UUID{qb[0].ID}, idsOf(f.claim(next, 10)), "the rescheduled head, at its time")
	require.ErrorIs(t, f.settle(invoice.Settlement{ID: qa[0].ID, LeaseID: held[qa[0].ID].LeaseID,
		Attempt: a1, State: invoice.DeliveryDelivered})[0], invoice.ErrLeaseLost, "already settled")
}

func keys(m map[uuid.UUID]*invoice.Delivery) []uuid.UUID {
	var out []uuid.UUID
	for k := range m {
		out = append(out, k)
	}
	return out
}

func testSettleRefusals(f *fixture) {
	t := f.t
	_, qa := f.queueOf(1)
	_, qb := f.queueOf(1)
	_, qc := f.queueOf(2)
	held := map[uuid.UUID]*invoice.Delivery{}
	for _, d := range f.claim(base, 10) {
		held[d.ID] = d
	}
	errs := f.settle(
		invoice.Settlement{ID: qa[0].ID, LeaseID: f.nextOtherID(), Attempt: attempt(1, ""), State: invoice.DeliveryDelivered},
		invoice.Settlement{ID: f.nextOtherID(), LeaseID: f.nextOtherID(), Attempt: attempt(1, ""), State: invoice.DeliveryDelivered},
		invoice.Settlement{ID: qb[0].ID, LeaseID: held[qb[0].ID].LeaseID, Attempt: attempt(2, ""), State: invoice.DeliveryDelivered},
		invoice.Settlement{ID: qc[1].ID, LeaseID: held[qc[0].ID].LeaseID, Attempt: attempt(3, ""), State: invoice.DeliveryDelivered},
	)
	require.ErrorIs(t, errs[0], invoice.ErrLeaseLost, "wrong lease")
	require.ErrorIs(t, errs[1], invoice.ErrNotFound, "no such delivery")
	require.NoError(t, errs[2], "the valid settlement applies beside the refused ones")
	require.ErrorIs(t, errs[3], invoice.ErrLeaseLost, "another delivery's lease; never claimed")
	require.Equal(t, invoice.DeliveryDelivered, f.getDelivery(qb[0].ID).State)
	require.Equal(t, invoice.DeliveryPending, f.getDelivery(qa[0].ID).State, "refused: still held")
	require.Equal(t, held[qa[0].ID].LeaseID, f.getDelivery(qa[0].ID).LeaseID, "refused: still held")
	require.Empty(t, f.getDelivery(qc[1].ID).Attempts, "refused: unchanged")
	f.ack(held[qa[0].ID], attempt(4, ""))
}

func testSettleWholeErrors(f *fixture) {
	t := f.t
	_, q := f.queueOf(1)
	d := f.claimOne(base, q[0])
	ok := invoice.Settlement{ID: d.ID, LeaseID: d.LeaseID, Attempt: attempt(1, ""), State: invoice.DeliveryDelivered}
	_, err := f.s.SettleDeliveries(ctx(), []invoice.Settlement{ok, ok})
	require.Error(t, err, "the same delivery twice")
	bad := ok
	bad.State = 0
	_, err = f.s.SettleDeliveries(ctx(), []invoice.Settlement{bad})
	require.Error(t, err, "no state")
	bad = ok
	bad.Attempt = attempt(1, "receiver said \x00")
	_, err = f.s.SettleDeliveries(ctx(), []invoice.Settlement{bad})
	requireValidation(f, err, "an unstorable attempt")
	got := f.getDelivery(d.ID)
	require.Equal(t, invoice.DeliveryPending, got.State, "nothing applied")
	require.Empty(t, got.Attempts, "nothing applied")
	require.NoError(t, f.settle(ok)[0], "the lease still holds")
}

func testSettleConcurrent(f *fixture) {
	t := f.t
	const n, settlers = 20, 4
	for range n {
		f.queueOf(1)
	}
	held := f.claim(base, n)
	require.Len(t, held, n)
	batch := make([]invoice.Settlement, n)
	for i, d := range held {
		batch[i] = invoice.Settlement{ID: d.ID, LeaseID: d.LeaseID, Attempt: attempt(i, ""), State: invoice.DeliveryDelivered}
	}
	results := make([][]error, settlers)
	errs := concurrently(settlers, func(w int) error {
		var err error
		results[w], err = f.s.SettleDeliveries(ctx(), batch)
		return err
	})
	for w, err := range errs {
		require.NoError(t, err, "settler %d", w)
	}
	for i, d := range held {
		wins := 0
		for w := range settlers {
			if results[w][i] == nil {
				wins++
			} else {
				require.ErrorIs(t, results[w][i], invoice.ErrLeaseLost)
			}
		}
		require.Equal(t, 1, wins, "delivery %d settled exactly once", i)
		require.Len(t, f.getDelivery(d.ID).Attempts, 1)
	}
}
