// Package invoicetest helps host test suites drive invoices without
// sleeping or talking to the outside world: a settable fake clock, a
// recording (and optionally failing) notifier, deterministic address and ID
// sources, and New, which builds a ready engine on memstore.
//
//	h := invoicetest.New(t)
//	inv, _ := h.Engine.Create(ctx, req)
//	h.Clock.Advance(16 * time.Minute)
//	h.Engine.Sweep(ctx)          // the invoice fails: "Timer expired. User not paid."
//	h.Engine.DeliverDue(ctx)
//	cbs := h.Merchant.Callbacks(inv.ForeignID)
package invoicetest

import (
	"sync/atomic"
	"time"
)

// Clock is a settable fake invoice.Clock, safe for concurrent use. The
// zero value reads as Epoch until set.
type Clock struct {
	// now is the current time; nil reads as Epoch. A stored time is never
	// modified: Set and Advance store a new one.
	now atomic.Pointer[time.Time]
}

// Epoch is the default start time of NewClock: 2026-01-01 00:00:00 UTC.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// NewClock returns a clock reading start (Epoch when start is zero).
func NewClock(start time.Time) *Clock {
	c := &Clock{}
	c.Set(start)
	return c
}

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	if p := c.now.Load(); p != nil && !p.IsZero() {
		return *p
	}
	return Epoch
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.now.Store(&t)
}

// Advance moves the clock forward by d and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	for {
		old := c.now.Load()
		next := Epoch
		if old != nil && !old.IsZero() {
			next = *old
		}
		next = next.Add(d)
		if c.now.CompareAndSwap(old, &next) {
			return next
		}
	}
}
