package checkout

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cryptoinvoice/invoice/invoicetest"
)

func TestLimiter(t *testing.T) {
	clock := invoicetest.NewClock(time.Time{})
	l := newLimiter(clock, RateLimit{PerMinute: 60, Burst: 3})
	for i := range 3 {
		require.True(t, l.allow("a"), "burst %d", i)
	}
	require.False(t, l.allow("a"), "burst spent")
	require.True(t, l.allow("b"), "keys are independent")
	clock.Advance(time.Second)
	require.True(t, l.allow("a"), "one token a second")
	require.False(t, l.allow("a"))
	clock.Advance(time.Hour)
	for range 3 {
		require.True(t, l.allow("a"))
	}
	require.False(t, l.allow("a"), "refill capped at the burst")

	l.maxKeys = 10
	for i := range 100 {
		l.allow(fmt.Sprint("k", i))
		require.LessOrEqual(t, len(l.buckets), 10, "bounded")
	}
}
