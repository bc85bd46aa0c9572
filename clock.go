package invoice

import "time"

// Clock tells the engine the time. Inject a fake one in tests (see
// invoicetest.Clock) to drive timers without sleeping.
type Clock interface {
	Now() time.Time
}

// SystemClock is the default Clock: it calls time.Now each time.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }
