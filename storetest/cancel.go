package storetest

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	invoice "github.com/cryptoinvoice/invoice"
)

// testCancelledContext calls every method with an already-cancelled
// context: each must fail with the context's error and change nothing.
func testCancelledContext(f *fixture) {
	t := f.t
	// Setup: a due invoice with a pending (not yet due) delivery; a dead
	// delivery; a held delivery.
	a := f.create(withDeadline(base.Add(-time.Minute)))
	pendingD := f.newDelivery(a, invoice.ChannelMerchant, 1, base.Add(time.Hour))
	f.update(a, pendingD)
	b := f.create()
	deadD := f.newDelivery(b, invoice.ChannelMerchant, 1, base)
	f.update(b, deadD)
	c := f.create()
	heldD := f.newDelivery(c, invoice.ChannelMerchant, 1, base)
	f.update(c, heldD)
	claimed := f.claim(base, 10)
	require.Equal(t, sortedIDs(deadD.ID, heldD.ID), deliveryIDs(claimed))
	var held *invoice.Delivery
	for _, d := range claimed {
		if d.ID == deadD.ID {
			require.NoError(t, f.s.RescheduleDelivery(ctx(), d.ID, d.LeaseID, attempt(1, "x"), base, true))
		} else {
			held = d
		}
	}

	snapshot := func() ([]*invoice.Invoice, []*invoice.Delivery) {
		t.Helper()
		invs, err := f.s.ListInvoices(ctx(), invoice.ListQuery{Limit: 100})
		require.NoError(t, err)
		ds, err := f.s.ListDeliveries(ctx(), invoice.DeliveryQuery{Limit: 100})
		require.NoError(t, err)
		return invs, ds
	}
	invsBefore, dsBefore := snapshot()

	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	canceled := func(name string, err error) {
		t.Helper()
		require.ErrorIs(t, err, context.Canceled, "%s with a cancelled context", name)
	}

	newInv := f.newInvoice(withDeadline(base.Add(-time.Hour)))
	canceled("CreateInvoice", f.s.CreateInvoice(cctx, newInv))
	require.Zero(t, newInv.Version)
	require.Zero(t, newInv.Number)
	_, err := f.s.GetInvoice(cctx, a.ID)
	canceled("GetInvoice", err)
	_, err = f.s.GetInvoiceByForeignID(cctx, a.ForeignID)
	canceled("GetInvoiceByForeignID", err)
	_, err = f.s.GetInvoiceByCheckoutToken(cctx, a.CheckoutToken)
	canceled("GetInvoiceByCheckoutToken", err)
	_, err = f.s.GetInvoiceByAddress(cctx, "bc1qcancelled")
	canceled("GetInvoiceByAddress", err)
	_, err = f.s.NextSequence(cctx, "cancelled")
	canceled("NextSequence", err)
	_, err = f.s.ListInvoices(cctx, invoice.ListQuery{Limit: 10})
	canceled("ListInvoices", err)
	_, err = f.s.ListAwaitingPayout(cctx, uuid.Nil, 10)
	canceled("ListAwaitingPayout", err)
	upd := f.get(a.ID)
	upd.Title = "cancelled update"
	upd.Deadline = time.Time{}
	extra := f.newDelivery(upd, invoice.ChannelCustomer, 2, base)
	canceled("UpdateInvoice", f.s.UpdateInvoice(cctx, upd, []*invoice.Delivery{extra}))
	require.Equal(t, a.Version, upd.Version)
	_, err = f.s.UpdateInvoices(cctx, []invoice.InvoiceUpdate{{Invoice: upd, Outbox: []*invoice.Delivery{extra}}})
	canceled("UpdateInvoices", err)
	require.Equal(t, a.Version, upd.Version)
	_, err = f.s.SettleDeliveries(cctx, []invoice.Settlement{{ID: held.ID, LeaseID: held.LeaseID,
		Attempt: attempt(2, ""), State: invoice.DeliveryDelivered}})
	canceled("SettleDeliveries", err)
	_, err = f.s.ClaimDueInvoices(cctx, base, lease, 10)
	canceled("ClaimDueInvoices", err)
	_, err = f.s.ClaimDeliveries(cctx, base.Add(2*time.Hour), lease, 10)
	canceled("ClaimDeliveries", err)
	canceled("AckDelivery", f.s.AckDelivery(cctx, held.ID, held.LeaseID, attempt(2, "")))
	canceled("RescheduleDelivery", f.s.RescheduleDelivery(cctx, held.ID, held.LeaseID, attempt(2, "x"), base, false))
	canceled("RescheduleDelivery(dead)", f.s.RescheduleDelivery(cctx, held.ID, held.LeaseID, attempt(2, "x"), base, true))
	_, err = f.s.GetDelivery(cctx, held.ID)
	canceled("GetDelivery", err)
	_, err = f.s.ListDeliveries(cctx, invoice.DeliveryQuery{Limit: 10})
	canceled("ListDeliveries", err)
	canceled("RedeliverDelivery", f.s.RedeliverDelivery(cctx, deadD.ID, base))

	// Nothing changed.
	invsAfter, dsAfter := snapshot()
	requireSame(t, invsBefore, invsAfter)
	requireSame(t, dsBefore, dsAfter)
	_, err = f.s.GetInvoice(ctx(), newInv.ID)
	require.ErrorIs(t, err, invoice.ErrNotFound, "cancelled create stored nothing")
	_, err = f.s.GetDelivery(ctx(), extra.ID)
	require.ErrorIs(t, err, invoice.ErrNotFound, "cancelled update stored no outbox")
	require.Equal(t, invoice.DeliveryDead, f.getDelivery(deadD.ID).State, "cancelled redeliver")
	require.Equal(t, []uuid.UUID{a.ID}, f.claimDue(base, lease, 10), "cancelled claim held nothing")
	f.ack(held, attempt(3, "")) // the cancelled calls did not settle it
	got := f.claim(base.Add(2*time.Hour), 10)
	require.Equal(t, []uuid.UUID{pendingD.ID}, idsOf(got), "cancelled claim held nothing")
}
