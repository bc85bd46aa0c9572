package invoicetest

import (
	"context"
	"errors"
	"sync"

	"github.com/cryptoinvoice/invoice"
)

// ErrRefused is what a Notifier returns for an attempt it was told to fail.
var ErrRefused = errors.New("invoicetest: delivery refused")

// Notifier records every merchant callback, customer notice and refund
// payout it acknowledges; it implements invoice.Notifier,
// invoice.CustomerNotifier and invoice.PayoutNotifier. FailNext makes it refuse attempts, to exercise
// retries. Safe for concurrent use.
type Notifier struct {
	mu        sync.Mutex
	callbacks []*invoice.Delivery
	notices   []*invoice.RefundNotice
	payouts   []*invoice.RefundPayout
	attempts  int
	failNext  int
}

// NewNotifier returns an empty recording notifier.
func NewNotifier() *Notifier { return &Notifier{} }

// Notify records the callback (or refuses it while FailNext lasts).
func (n *Notifier) Notify(ctx context.Context, d *invoice.Delivery) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.attempt(ctx); err != nil {
		return err
	}
	n.callbacks = append(n.callbacks, d.Clone())
	return nil
}

// NotifyCustomer records the refund notice (or refuses it while FailNext
// lasts).
func (n *Notifier) NotifyCustomer(ctx context.Context, rn *invoice.RefundNotice) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.attempt(ctx); err != nil {
		return err
	}
	cp := *rn
	n.notices = append(n.notices, &cp)
	return nil
}

// NotifyPayout records the refund payout (or refuses it while FailNext
// lasts).
func (n *Notifier) NotifyPayout(ctx context.Context, p *invoice.RefundPayout) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.attempt(ctx); err != nil {
		return err
	}
	cp := *p
	n.payouts = append(n.payouts, &cp)
	return nil
}

// Payouts returns the acknowledged refund payouts of one invoice (all when
// foreignID is ""), in delivery order.
func (n *Notifier) Payouts(foreignID string) []*invoice.RefundPayout {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []*invoice.RefundPayout
	for _, p := range n.payouts {
		if foreignID == "" || p.ForeignID == foreignID {
			out = append(out, p)
		}
	}
	return out
}

// attempt counts one attempt and says whether it fails (a done context,
// or FailNext still lasting). n.mu must be held.
func (n *Notifier) attempt(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n.attempts++
	if n.failNext > 0 {
		n.failNext--
		return ErrRefused
	}
	return nil
}

// FailNext makes the next k attempts fail with ErrRefused.
func (n *Notifier) FailNext(k int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.failNext = k
}

// Attempts returns how many attempts were made, failed ones included.
func (n *Notifier) Attempts() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.attempts
}

// Deliveries returns every acknowledged merchant delivery, in delivery order.
func (n *Notifier) Deliveries() []*invoice.Delivery {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*invoice.Delivery(nil), n.callbacks...)
}

// Callbacks returns the acknowledged callbacks of one invoice (all when
// foreignID is ""), in delivery order.
func (n *Notifier) Callbacks(foreignID string) []*invoice.Callback {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []*invoice.Callback
	for _, d := range n.callbacks {
		if foreignID == "" || d.Callback.ForeignID == foreignID {
			out = append(out, d.Callback)
		}
	}
	return out
}

// Statuses returns the status of each acknowledged callback of one invoice,
// in delivery order, e.g. [pending processing confirmed].
func (n *Notifier) Statuses(foreignID string) []invoice.Status {
	var out []invoice.Status
	for _, cb := range n.Callbacks(foreignID) {
		out = append(out, cb.Status)
	}
	return out
}

// Notices returns the acknowledged refund notices of one invoice (all when
// foreignID is ""), in delivery order.
func (n *Notifier) Notices(foreignID string) []*invoice.RefundNotice {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []*invoice.RefundNotice
	for _, rn := range n.notices {
		if foreignID == "" || rn.ForeignID == foreignID {
			out = append(out, rn)
		}
	}
	return out
}

// Reset forgets everything recorded.
func (n *Notifier) Reset() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.callbacks, n.notices, n.payouts, n.attempts, n.failNext = nil, nil, nil, 0, 0
}
