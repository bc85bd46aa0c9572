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
// work), each batch worked by up to Config.SweepConcurrency goroutines,
// until none is due. It returns how many invoices it failed. A panic in
// the store is recovered and returned as an error matching ErrPanic; the
// invoices of that batch are claimed again when their sweep lease ends.
func (e *Engine) Sweep(ctx context.Context) (int, error) {
	return e.sweep(ctx, ctx)
}

// sweep claims with claimCtx and updates with workCtx (see deliverDue).
func (e *Engine) sweep(claimCtx, workCtx context.Context) (int, error) {
	var failed atomic.Int64
	for claimCtx.Err() == nil {
		var claimed []*Invoice
		err := e.guard(claimCtx, "claim due invoices", func() error {
			var err error
			claimed, err = e.cfg.Store.ClaimDueInvoices(claimCtx, e.now(), e.cfg.SweepLease, e.cfg.SweepBatch)
			return err
		})
		if err != nil {
			return int(failed.Load()), fmt.Errorf("invoice: sweep: %w", err)
		}
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs []error
			next atomic.Int64
		)
		for range min(e.cfg.SweepConcurrency, len(claimed)) {
			wg.Go(func() {
				for i := next.Add(1) - 1; i < int64(len(claimed)); i = next.Add(1) - 1 {
					var inv *Invoice
					err := e.guard(workCtx, "sweep", func() error {
						var err error
						inv, err = e.mutate(workCtx, e.claimedFirst(claimed[i]), nil)
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
		if err := errors.Join(errs...); err != nil {
			return int(failed.Load()), fmt.Errorf("invoice: sweep: %w", err)
		}
		if len(claimed) < e.cfg.SweepBatch {
			return int(failed.Load()), nil
		}
	}
	return int(failed.Load()), nil
}

// claimedFirst loads a claimed invoice for mutate: the claim's own copy
// first (no second read), and a fresh read should the update conflict.
func (e *Engine) claimedFirst(inv *Invoice) func(context.Context) (*Invoice, error) {
	reload := e.byID(inv.ID)
	return func(ctx context.Context) (*Invoice, error) {
		if inv != nil {
			first := inv
			inv = nil
			return first, nil
		}
		return reload(ctx)
	}
}
