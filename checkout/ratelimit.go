package checkout

import (
	"sync"
	"time"

	"github.com/cryptoinvoice/invoice"
)

// limiter is a per-key token bucket (a key is a client address), bounded
// in memory: when it tracks maxKeys keys, full buckets are dropped, and if
// none is full the whole table is reset (an attacker filling it can then
// at worst get a fresh burst, never an unbounded map). Time comes from the
// injected clock. Safe for concurrent use.
//
// The refund-claim pages use it too (one limiter per purpose).
type limiter struct {
	clock   invoice.Clock
	per     time.Duration // time to earn one token
	burst   float64
	maxKeys int

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

const defaultMaxKeys = 10_000

func newLimiter(clock invoice.Clock, rl RateLimit) *limiter {
	return &limiter{
		clock:   clock,
		per:     time.Minute / time.Duration(rl.PerMinute),
		burst:   float64(rl.Burst),
		maxKeys: defaultMaxKeys,
		buckets: map[string]*bucket{},
	}
}

// allow takes a token from key's bucket and reports whether there was one.
func (l *limiter) allow(key string) bool {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.maxKeys {
			l.prune(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (l *limiter) refill(b *bucket, now time.Time) {
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(l.burst, b.tokens+float64(d)/float64(l.per))
		b.at = now
	}
}

// prune drops full buckets, or everything when none is full. l.mu is held.
func (l *limiter) prune(now time.Time) {
	for k, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= l.burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= l.maxKeys {
		clear(l.buckets)
	}
}
