package invoice_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/memstore"
)

// countingStore counts the write calls the engine makes.
type countingStore struct {
	invoice.Store
	update, updates, ack, reschedule, settle atomic.Int64
	settled                                  atomic.Int64 // settlements over all SettleDeliveries calls
}

func (s *countingStore) UpdateInvoice(ctx context.Context, inv *invoice.Invoice, out []*invoice.Delivery) error {
	s.update.Add(1)
	return s.Store.UpdateInvoice(ctx, inv, out)
}

func (s *countingStore) UpdateInvoices(ctx context.Context, b []invoice.InvoiceUpdate) ([]error, error) {
	s.updates.Add(1)
	return s.Store.UpdateInvoices(ctx, b)
}

func (s *countingStore) AckDelivery(ctx context.Context, id, lease uuid.UUID, a invoice.Attempt) error {
	s.ack.Add(1)
	return s.Store.AckDelivery(ctx, id, lease, a)
}

func (s *countingStore) RescheduleDelivery(ctx context.Context, id, lease uuid.UUID, a invoice.Attempt, next time.Time, dead bool) error {
	s.reschedule.Add(1)
	return s.Store.RescheduleDelivery(ctx, id, lease, a, next, dead)
}

func (s *countingStore) SettleDeliveries(ctx context.Context, b []invoice.Settlement) ([]error, error) {
	s.settle.Add(1)
	s.settled.Add(int64(len(b)))
	return s.Store.SettleDeliveries(ctx, b)
}

// The sweep fails a claimed batch with one UpdateInvoices, never an
// update per invoice, each with its failure reason from the transition
// table and one callback.
func TestSweepAppliesEachBatchAtOnce(t *testing.T) {
	cs := &countingStore{Store: memstore.New()}
	h := invoicetest.New(t, func(c *invoice.Config) { c.Store, c.SweepBatch = cs, 100 })
	const n = 250
	for i := range n {
		create(t, h, typ3(fmt.Sprintf("o-%d", i)))
	}
	h.Clock.Advance(16 * time.Minute)
	failed, err := h.Engine.Sweep(ctx)
	require.NoError(t, err)
	require.Equal(t, n, failed)
	require.Equal(t, int64(3), cs.updates.Load(), "one UpdateInvoices per claimed batch of 100")
	require.Zero(t, cs.update.Load(), "no per-invoice update")
	for i := range n {
		inv, err := h.Engine.Get(ctx, fmt.Sprintf("o-%d", i))
		require.NoError(t, err)
		require.Equal(t, invoice.StatusFailed, inv.Status)
		require.Equal(t, invoice.ReasonNotPaid, inv.Error)
	}
	delivered, err := h.Engine.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, n, delivered, "one failure callback each")
	require.Zero(t, cs.ack.Load()+cs.reschedule.Load(), "no per-delivery settlement")
	require.Equal(t, int64(n), cs.settled.Load())
	require.LessOrEqual(t, cs.settle.Load(), int64(n/4), "outcomes settled in batches, not one by one")
}

// A failed attempt in a batch is rescheduled in the same SettleDeliveries
// as the acknowledgements beside it, and retried later in order.
func TestDeliverSettlesRetriesWithAcks(t *testing.T) {
	cs := &countingStore{Store: memstore.New()}
	h := invoicetest.New(t, func(c *invoice.Config) { c.Store = cs })
	for i := range 10 {
		create(t, h, typ3(fmt.Sprintf("o-%d", i)))
		_, err := h.Engine.Cancel(ctx, fmt.Sprintf("o-%d", i))
		require.NoError(t, err)
	}
	h.Merchant.FailNext(3)
	delivered, err := h.Engine.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 7, delivered)
	require.Equal(t, int64(10), cs.settled.Load())
	require.Zero(t, cs.ack.Load()+cs.reschedule.Load())
	h.Clock.Advance(time.Hour)
	delivered, err = h.Engine.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, delivered, "the failed ones, retried")
}
