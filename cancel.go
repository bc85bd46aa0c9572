package invoice

import (
	"context"
	"fmt"
)

// FlagTransaction records that compliance flagged a transaction of the
// invoice. A pending or processing invoice fails with "Transaction flagged
// by compliance." and the customer gets a refund claim for everything
// received (transactions still confirming are refunded when they confirm).
// In any other status the flag is refused with a *TransitionError and
// nothing changes. ErrNotFound if the invoice has no such transaction.
func (e *Engine) FlagTransaction(ctx context.Context, foreignID, txid string) (*Invoice, error) {
	return e.mutate(ctx, e.byForeignID(foreignID), func(ch *change) error {
		t := ch.inv.Transaction(txid)
		if t == nil {
			return fmt.Errorf("invoice %q: transaction %q: %w", foreignID, txid, ErrNotFound)
		}
		if _, ok := Transition(ch.inv.Status, EventFlagged); !ok {
			return &TransitionError{ForeignID: ch.inv.ForeignID, Status: ch.inv.Status, Event: EventFlagged}
		}
		t.Flagged = true
		t.UpdatedAt = ch.now
		if err := ch.apply(EventFlagged); err != nil {
			return err
		}
		ch.settleRefunds()
		return nil
	})
}

// Cancel fails the invoice with "Cancelled by customer". The customer gets
// a refund claim for any funds received (those still confirming when
// they confirm). A confirmed or failed invoice cannot be cancelled: the
// error is a *TransitionError with code invalid_invoice_state and message
// "Invoice cannot be failed in its current state.", and nothing changes.
func (e *Engine) Cancel(ctx context.Context, foreignID string) (*Invoice, error) {
	return e.mutate(ctx, e.byForeignID(foreignID), func(ch *change) error {
		if err := ch.apply(EventCancel); err != nil {
			return err
		}
		ch.settleRefunds()
		return nil
	})
}
