package invoice_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/memstore"
)

// conflictingStore refuses the first conflicts updates with ErrConflict
// (changing nothing), and checks every outbox it is given: each record
// belongs to the invoice being updated. It remembers the records of each
// attempt, copied (the outbox slice is the engine's).
type conflictingStore struct {
	invoice.Store
	mu        sync.Mutex
	conflicts int
	attempts  [][]invoice.Delivery
	bad       []string
}

func (s *conflictingStore) UpdateInvoice(ctx context.Context, inv *invoice.Invoice, out []*invoice.Delivery) error {
	s.mu.Lock()
	var recs []invoice.Delivery
	for _, d := range out {
		recs = append(recs, *d)
		if d.InvoiceID != inv.ID || (d.Callback != nil && d.Callback.ForeignID != inv.ForeignID) {
			s.bad = append(s.bad, fmt.Sprintf("%s: record %s of invoice %s", inv.ForeignID, d.ID, d.InvoiceID))
		}
	}
	s.attempts = append(s.attempts, recs)
	refuse := s.conflicts > 0
	if refuse {
		s.conflicts--
	}
	s.mu.Unlock()
	if refuse {
		return invoice.ErrConflict
	}
	return s.Store.UpdateInvoice(ctx, inv, out)
}

// A change redone after a conflict starts from nothing: the engine reuses
// its change records, and a retry must not carry the outbox records (or
// anything else) of the refused attempt.
func TestRetryAfterConflictStartsAfresh(t *testing.T) {
	cs := &conflictingStore{Store: memstore.New()}
	h := invoicetest.New(t, func(c *invoice.Config) { c.Store = cs })
	_, err := h.Engine.Create(ctx, invoice.CreateRequest{ForeignID: "o", Title: "t", Amount: dec("100"), Currency: "EUR"})
	require.NoError(t, err)
	cs.mu.Lock()
	cs.conflicts = 3
	cs.mu.Unlock()
	inv, err := h.Engine.ConfirmPayment(ctx, "o", invoice.Confirmation{Currency: "BTC", Email: "c@example.com"})
	require.NoError(t, err)
	require.Equal(t, invoice.StatusPending, inv.Status)
	require.Len(t, cs.attempts, 4)
	for i, recs := range cs.attempts {
		require.Len(t, recs, 1, "attempt %d", i)
		require.Equal(t, invoice.StatusPending, recs[0].Callback.Status, "attempt %d", i)
		if i > 0 {
			require.NotEqual(t, cs.attempts[i-1][0].ID, recs[0].ID, "attempt %d reused a record", i)
		}
	}
	_, err = h.Engine.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, []invoice.Status{invoice.StatusPending}, h.Merchant.Statuses("o"))
	require.Empty(t, cs.bad)
}

// Concurrent operations on one engine never share a change record: every
// outbox holds only its own invoice's records, and each invoice gets
// exactly its own callbacks (run with -race).
func TestConcurrentChangesKeepTheirOwnOutbox(t *testing.T) {
	cs := &conflictingStore{Store: memstore.New()}
	h := invoicetest.New(t, func(c *invoice.Config) { c.Store = cs })
	const workers, each = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("o-%d-%d", w, i)
				if _, err := h.Engine.Create(ctx, invoice.CreateRequest{ForeignID: id, Title: "t", Amount: dec("100"), Currency: "EUR"}); err != nil {
					errs <- err
					return
				}
				if _, err := h.Engine.ConfirmPayment(ctx, id, invoice.Confirmation{Currency: "BTC", Email: "c@example.com"}); err != nil {
					errs <- err
					return
				}
				for _, st := range []invoice.TxStatus{invoice.TxNotConfirmed, invoice.TxConfirmed} {
					if _, err := h.Engine.ReportTransaction(ctx, id, invoice.TransactionReport{
						TxID: "tx", Currency: "BTC", Amount: dec("0.00166667"), Confirmations: int64(st) - 1, Status: st,
					}); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Empty(t, cs.bad)
	_, err := h.Engine.DeliverDue(ctx)
	require.NoError(t, err)
	for w := range workers {
		for i := range each {
			id := fmt.Sprintf("o-%d-%d", w, i)
			require.Equal(t, []invoice.Status{invoice.StatusPending, invoice.StatusProcessing, invoice.StatusConfirmed},
				h.Merchant.Statuses(id), id)
		}
	}
}
