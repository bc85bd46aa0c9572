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
// Config.SweepConcurrency at once. One bad invoice never holds back the
// others of its batch (a store that cannot decode a row sets it aside and
// claims the rest). A panic in the store is recovered and returned as an
// error matching ErrPanic; the invoices it left undone are claimed again
// when their sweep lease ends.
func (e *Engine) Sweep(ctx context.Context) (int, error) {
	return e.sweep(ctx, ctx)
}

// sweep claims with claimCtx and updates with workCtx (see deliverDue).
func (e *Engine) sweep(claimCtx, workCtx context.Context) (int, error) {
	failed := 0
	for claimCtx.Err() == nil {
		var claimed []*Invoice
		err := e.guard(claimCtx, "claim due invoices", func() error {
			var err error
			claimed, err = e.cfg.Store.ClaimDueInvoices(claimCtx, e.now(), e.cfg.SweepLease, e.cfg.SweepBatch)
			return err
		})
		if err != nil {
			return failed, fmt.Errorf("invoice: sweep: %w", err)
		}
		n, err := e.sweepBatch(workCtx, claimed)
		failed += n
		if err != nil {
			return failed, fmt.Errorf("invoice: sweep: %w", err)
		}
		if len(claimed) < e.cfg.SweepBatch {
			return failed, nil
		}
	}
	return failed, nil
}

// sweepBatch fails the claimed invoices that are due and returns how many
// it failed. An error about one invoice is returned (joined with the
// others') after the rest of the batch is done.
func (e *Engine) sweepBatch(ctx context.Context, claimed []*Invoice) (int, error) {
	batch := make([]InvoiceUpdate, 0, len(claimed))
	recorded := false
	var errs []error
	for _, inv := range claimed {
		err := e.guard(ctx, "sweep", func() error {
			ch := e.newChange(inv)
			ch.expireIfDue()
			if ch.err != nil {
				return fmt.Errorf("invoice %s: %w", inv.ForeignID, ch.err)
			}
			if !ch.changed {
				return nil // no longer due (its deadline moved): the claim lapses
			}
			ch.finish()
			recorded = recorded || len(ch.outbox) > 0
			batch = append(batch, InvoiceUpdate{Invoice: inv, Outbox: ch.outbox})
			return nil
		})
		if err != nil {
			errs = append(errs, err) // one bad invoice never holds back the others
		}
	}
	if len(batch) == 0 {
		return 0, errors.Join(errs...)
	}
	var results []error
	err := e.guard(ctx, "update invoices", func() error {
		var err error
		results, err = e.cfg.Store.UpdateInvoices(ctx, batch)
		if err == nil && len(results) != len(batch) {
			err = fmt.Errorf("store returned %d results for %d updates", len(results), len(batch))
		}
		return err
	})
	if err != nil {
		errs = append(errs, err)
		if !errors.Is(err, ErrPanic) && !errors.Is(err, ErrValidation) {
			// Nothing of the batch applied: left to the sweep lease.
			return 0, errors.Join(errs...)
		}
		// One invoice of the batch may be to blame: each is done alone,
		// from a fresh read, so that it holds back no other (one that
		// fails again is left to its sweep lease).
		invs := make([]*Invoice, len(batch))
		for i, u := range batch {
			invs[i] = u.Invoice
		}
		n, err := e.sweepRetry(ctx, invs)
		return n, errors.Join(append(errs, err)...)
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
			errs = append(errs, fmt.Errorf("invoice %s: %w", u.Invoice.ForeignID, err))
		}
	}
	n, err := e.sweepRetry(ctx, retry)
	if err != nil {
		errs = append(errs, err)
	}
	return failed + n, errors.Join(errs...)
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
				var inv *Invoice
				err := e.guard(ctx, "sweep", func() error {
					var err error
					inv, err = e.mutate(ctx, e.byID(invs[i].ID), nil)
					return err
				})
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					continue // one bad invoice never holds back the others
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
