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
	"sync"
	"time"
)

// Clock is a settable fake invoice.Clock, safe for concurrent use. The
// zero value reads as Epoch until set.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Epoch is the default start time of NewClock: 2026-01-01 00:00:00 UTC.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// NewClock returns a clock reading start (Epoch when start is zero).
func NewClock(start time.Time) *Clock {
	if start.IsZero() {
		start = Epoch
	}
	return &Clock{now: start}
}

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now.IsZero() {
		return Epoch
	}
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock forward by d and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now.IsZero() {
		c.now = Epoch
	}
	c.now = c.now.Add(d)
	return c.now
}
