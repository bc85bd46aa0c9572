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
// until none is due. It returns how many invoices it failed.
func (e *Engine) Sweep(ctx context.Context) (int, error) {
	var failed atomic.Int64
	for {
		claimed, err := e.cfg.Store.ClaimDueInvoices(ctx, e.now(), e.cfg.SweepLease, e.cfg.SweepBatch)
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
					inv, err := e.mutate(ctx, e.claimedFirst(claimed[i]), nil)
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
		if err := errors.Join(errs...); err != nil {
			return int(failed.Load()), fmt.Errorf("invoice: sweep: %w", err)
		}
		if len(claimed) < e.cfg.SweepBatch {
			return int(failed.Load()), nil
		}
	}
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
