package invoicetest

import (
	"sync"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	var zero Clock
	if got := zero.Now(); !got.Equal(Epoch) {
		t.Fatalf("zero Clock reads %v, want Epoch", got)
	}
	if got := zero.Advance(time.Second); !got.Equal(Epoch.Add(time.Second)) {
		t.Fatalf("zero Clock advanced to %v", got)
	}
	c := NewClock(time.Time{})
	if got := c.Now(); !got.Equal(Epoch) {
		t.Fatalf("NewClock(zero) reads %v, want Epoch", got)
	}
	at := time.Date(2030, 5, 6, 7, 8, 9, 10, time.UTC)
	c.Set(at)
	if got := c.Now(); got != at {
		t.Fatalf("after Set: %v, want %v", got, at)
	}
	c.Set(time.Time{})
	if got := c.Now(); !got.Equal(Epoch) {
		t.Fatalf("after Set(zero): %v, want Epoch", got)
	}
	// Concurrent advances all count.
	c.Set(at)
	const n, each = 8, 1000
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for range each {
				c.Advance(time.Millisecond)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	if got, want := c.Now(), at.Add(n*each*time.Millisecond); got != want {
		t.Fatalf("after concurrent advances: %v, want %v", got, want)
	}
}
