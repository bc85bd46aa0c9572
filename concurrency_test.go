package invoice_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// 1,000 goroutines race cancel against the confirming transaction report on
// 500 processing invoices: each invoice ends in exactly one final state,
// with exactly the callbacks of that outcome.
func TestConcurrentCancelAgainstConfirmation(t *testing.T) {
	h := invoicetest.New(t)
	const n = 500
	for i := range n {
		id := fmt.Sprintf("o-%d", i)
		create(t, h, typ3(id))
		report(t, h, id, "tx-"+id, "0.00166667", invoice.TxNotConfirmed)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	start := make(chan struct{})
	for i := range n {
		id := fmt.Sprintf("o-%d", i)
		wg.Go(func() {
			<-start
			_, err := h.Engine.Cancel(ctx, id)
			if err != nil && !errors.Is(err, invoice.ErrInvalidState) {
				errs <- err
			}
		})
		wg.Go(func() {
			<-start
			_, err := h.Engine.ReportTransaction(ctx, id, invoice.TransactionReport{
				TxID: "tx-" + id, Currency: "BTC", Amount: dec("0.00166667"), Confirmations: 6, Status: invoice.TxConfirmed,
			})
			if err != nil {
				errs <- err
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	_, err := h.Engine.DeliverDue(ctx)
	require.NoError(t, err)
	outcomes := map[invoice.Status]int{}
	for i := range n {
		id := fmt.Sprintf("o-%d", i)
		inv, err := h.Engine.Get(ctx, id)
		require.NoError(t, err)
		require.True(t, inv.Status.IsFinal(), id)
		outcomes[inv.Status]++
		got := h.Merchant.Statuses(id)
		switch inv.Status {
		case confirmed:
			assert.Equal(t, statuses(processing, confirmed), got, id)
			assert.Empty(t, inv.RefundClaims, id)
		case failed:
			assert.Equal(t, invoice.ReasonCancelled, inv.Error, id)
			assert.Equal(t, statuses(processing, failed), got, id)
			require.Len(t, inv.RefundClaims, 1, "cancelled with funds: one refund claim")
			assert.Len(t, h.Customers.Notices(id), 1, id)
		}
	}
	assert.Equal(t, n, outcomes[confirmed]+outcomes[failed])
	t.Logf("outcomes: %d confirmed, %d cancelled", outcomes[confirmed], outcomes[failed])
}

// Many engines on one store fail each overdue invoice exactly once.
func TestConcurrentSweepsFailEachInvoiceOnce(t *testing.T) {
	h := invoicetest.New(t)
	for i := range 300 {
		create(t, h, typ3(fmt.Sprintf("o-%d", i)))
	}
	h.Clock.Advance(time.Hour)
	engines := make([]*invoice.Engine, 4)
	for i := range engines {
		cfg := h.Config
		cfg.SweepBatch, cfg.SweepConcurrency = 7, 3
		e, err := invoice.New(cfg)
		require.NoError(t, err)
		engines[i] = e
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for _, e := range engines {
		wg.Go(func() {
			n, err := e.Sweep(ctx)
			assert.NoError(t, err)
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	_, err := h.Engine.DeliverDue(ctx)
	require.NoError(t, err)
	for i := range 300 {
		assert.Equal(t, statuses(failed), h.Merchant.Statuses(fmt.Sprintf("o-%d", i)))
	}
	assert.Equal(t, 300, total)
}

// A new engine on the same store after a "crash" fails the invoices that
// became overdue meanwhile and delivers the callbacks never delivered.
func TestRestartFailsOverdueAndDeliversUndelivered(t *testing.T) {
	h := invoicetest.New(t)
	create(t, h, typ3("paid"))
	report(t, h, "paid", "tx", "0.00166667", invoice.TxConfirmed)
	create(t, h, typ3("unpaid"))
	// The first engine dies here: nothing delivered, nothing swept.

	h.Clock.Advance(2 * time.Hour)
	merchant := invoicetest.NewNotifier()
	cfg := h.Config
	cfg.Notifier = merchant
	restarted, err := invoice.New(cfg)
	require.NoError(t, err)
	n, err := restarted.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = restarted.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, statuses(processing, confirmed), merchant.Statuses("paid"))
	assert.Equal(t, statuses(failed), merchant.Statuses("unpaid"))
	assert.Empty(t, h.Merchant.Deliveries(), "the dead engine delivered nothing")
}

// Several engines delivering from one store at once: every callback is
// delivered exactly once (the lease holds), in order per invoice.
func TestConcurrentDispatchersKeepOrderAndDeliverOnce(t *testing.T) {
	h := invoicetest.New(t)
	const n = 200
	for i := range n {
		id := fmt.Sprintf("o-%d", i)
		create(t, h, typ3(id))
		report(t, h, id, "tx", "0.00166667", invoice.TxNotConfirmed)
		report(t, h, id, "tx", "0.00166667", invoice.TxConfirmed)
	}
	var wg sync.WaitGroup
	for range 3 {
		cfg := h.Config
		cfg.DeliveryBatch = 16
		e, err := invoice.New(cfg)
		require.NoError(t, err)
		wg.Go(func() {
			_, err := e.DeliverDue(ctx)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	_, err := h.Engine.DeliverDue(ctx) // whatever a head-of-line wait left behind
	require.NoError(t, err)
	assert.Len(t, h.Merchant.Deliveries(), 2*n)
	for i := range n {
		assert.Equal(t, statuses(processing, confirmed), h.Merchant.Statuses(fmt.Sprintf("o-%d", i)))
	}
}

// claimHook is a Store that runs a function right after each
// ClaimDueInvoices, between the claim and the sweep's updates.
type claimHook struct {
	invoice.Store
	after func(claimed []*invoice.Invoice)
}

func (s claimHook) ClaimDueInvoices(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*invoice.Invoice, error) {
	claimed, err := s.Store.ClaimDueInvoices(ctx, now, lease, limit)
	if err == nil && len(claimed) > 0 {
		s.after(claimed)
	}
	return claimed, err
}

// A claimed copy that another writer changed before the sweep's update is
// not applied over that change: the update conflicts, the sweep reads the
// invoice again and acts on what it finds (here: already failed, so
// nothing more), and the invoice gets one failure and one callback.
func TestSweepRereadsAClaimedInvoiceChangedMeanwhile(t *testing.T) {
	mem := memstore.New()
	var other *invoicetest.Harness
	h := invoicetest.New(t, func(c *invoice.Config) {
		c.Store = claimHook{Store: mem, after: func(claimed []*invoice.Invoice) {
			for _, inv := range claimed { // another engine gets there first
				_, err := other.Engine.Cancel(ctx, inv.ForeignID)
				require.ErrorIs(t, err, invoice.ErrInvalidState, "expired by the cancel's own read")
			}
		}}
	})
	other = invoicetest.New(t, func(c *invoice.Config) { c.Store, c.Clock = mem, h.Clock })
	create(t, h, typ3("o-1"))
	h.Clock.Advance(16 * time.Minute)

	_, err := h.Engine.Sweep(ctx)
	require.NoError(t, err)
	inv, err := h.Engine.Get(ctx, "o-1")
	require.NoError(t, err)
	require.Equal(t, invoice.StatusFailed, inv.Status)
	require.Equal(t, invoice.ReasonNotPaid, inv.Error)
	require.Equal(t, int64(2), inv.Version, "one change: the expiry")
	ds, err := mem.ListDeliveries(ctx, invoice.DeliveryQuery{InvoiceID: inv.ID, Limit: 10})
	require.NoError(t, err)
	require.Len(t, ds, 1, "one failure callback")
}
