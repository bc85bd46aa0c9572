package invoice

import (
	"context"
	"fmt"
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
func (e *Engine) Sweep(ctx context.Context) (int, error) {
	failed := 0
	for {
		ids, err := e.cfg.Store.ClaimDueInvoices(ctx, e.now(), e.cfg.SweepLease, e.cfg.SweepBatch)
		if err != nil {
			return failed, fmt.Errorf("invoice: sweep: %w", err)
		}
		for _, id := range ids {
			inv, err := e.mutate(ctx, e.byID(id), nil)
			if err != nil {
				return failed, fmt.Errorf("invoice: sweep: %w", err)
			}
			if inv.Status == StatusFailed {
				failed++
			}
		}
		if len(ids) < e.cfg.SweepBatch {
			return failed, nil
		}
	}
}
