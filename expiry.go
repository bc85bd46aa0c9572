package invoice

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// expireIfDue fails the invoice when its deadline has passed: the payment
// window (created, pending) or the processing window. It runs at the start
// of every change, so an overdue invoice is failed by the first operation
// that touches it, sweep or not.
func (ch *change) expireIfDue() {
	inv := ch.inv
	if inv.Status.IsFinal() || inv.Deadline.IsZero() || ch.now.Before(inv.Deadline) {
		return
	}
	var ev Event
	switch {
	case inv.Status == StatusProcessing:
		ev = EventProcessingTimeout
	case inv.ReceivedAmount().IsPositive():
		ev = EventExpiredPartial
	default:
		ev = EventExpiredUnpaid
	}
	if err := ch.apply(ev); err == nil {
		ch.settleRefunds()
	}
}

// Sweep fails every invoice whose deadline has passed, in bounded batches
// of Config.SweepBatch claimed from the store (so several engines share the
// work), until none is due. It returns how many invoices it failed.
//
// The engine decides each claimed invoice's outcome with the transition
// table, as any operation would (expireIfDue), and the store applies the
// whole batch with Store.UpdateInvoices: a bounded number of statements
// per batch, not one commit per invoice. An invoice another writer changed
// after the claim (a conflict) is done again from a fresh read, with up to
// Config.SweepConcurrency at once.
func (e *Engine) Sweep(ctx context.Context) (int, error) {
	failed := 0
	for {
		claimed, err := e.cfg.Store.ClaimDueInvoices(ctx, e.now(), e.cfg.SweepLease, e.cfg.SweepBatch)
		if err != nil {
			return failed, fmt.Errorf("invoice: sweep: %w", err)
		}
		n, err := e.sweepBatch(ctx, claimed)
		failed += n
		if err != nil {
			return failed, fmt.Errorf("invoice: sweep: %w", err)
		}
		if len(claimed) < e.cfg.SweepBatch {
			return failed, nil
		}
	}
}

// sweepBatch fails the claimed invoices that are due and returns how many
// it failed.
func (e *Engine) sweepBatch(ctx context.Context, claimed []*Invoice) (int, error) {
	batch := make([]InvoiceUpdate, 0, len(claimed))
	recorded := false
	for _, inv := range claimed {
		ch := e.newChange(inv)
		ch.expireIfDue()
		if ch.err != nil {
			return 0, ch.err
		}
		if !ch.changed {
			continue // no longer due (its deadline moved): the claim lapses
		}
		ch.finish()
		recorded = recorded || len(ch.outbox) > 0
		batch = append(batch, InvoiceUpdate{Invoice: inv, Outbox: ch.outbox})
	}
	if len(batch) == 0 {
		return 0, nil
	}
	results, err := e.cfg.Store.UpdateInvoices(ctx, batch)
	if err != nil {
		return 0, err
	}
	if recorded {
		e.signal()
	}
	failed := 0
	var retry []*Invoice
	for i, u := range batch {
		switch err := results[i]; {
		case err == nil:
			if u.Invoice.Status == StatusFailed {
				failed++
			}
		case errors.Is(err, ErrConflict):
			retry = append(retry, u.Invoice)
		case errors.Is(err, ErrNotFound):
			// Gone since the claim: nothing to fail.
		default:
			return failed, fmt.Errorf("invoice %s: %w", u.Invoice.ForeignID, err)
		}
	}
	n, err := e.sweepRetry(ctx, retry)
	return failed + n, err
}

// sweepRetry fails, each from a fresh read, the claimed invoices whose
// batched update conflicted with another writer, with up to
// Config.SweepConcurrency at once; it returns how many it failed.
func (e *Engine) sweepRetry(ctx context.Context, invs []*Invoice) (int, error) {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		errs   []error
		next   atomic.Int64
		failed atomic.Int64
	)
	for range min(e.cfg.SweepConcurrency, len(invs)) {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(invs)); i = next.Add(1) - 1 {
				inv, err := e.mutate(ctx, e.byID(invs[i].ID), nil)
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				if inv.Status == StatusFailed {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return int(failed.Load()), errors.Join(errs...)
}
