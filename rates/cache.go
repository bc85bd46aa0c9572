package rates

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/shopspring/decimal"
)

// CacheConfig configures a Cache. Every zero value means the documented
// default.
type CacheConfig struct {
	// MaxAge is how long a rate is served after it was asked for (the age
	// counts from when the request to the source started). A rate older
	// than MaxAge is never served. Default 1 minute.
	MaxAge time.Duration
	// Clock defaults to invoice.SystemClock; use the engine's.
	Clock invoice.Clock
	// FetchTimeout bounds one request to the source. The request runs on
	// behalf of every caller waiting for the pair, so it is not cut short
	// when the caller that started it gives up. Default 30 seconds.
	FetchTimeout time.Duration
}

// Cache is a RateSource that keeps each pair's rate for at most MaxAge.
// However many callers ask for a pair at once, the source is asked once
// per pair per cache period; callers of a pair being fetched wait for that
// request (or their own context). A failed request is not cached, except
// that a rate-limited feed's Retry-After is honoured: until it passes,
// callers get the feed's error without a new request. Safe for concurrent
// use.
type Cache struct {
	src invoice.RateSource
	cfg CacheConfig

	mu    sync.Mutex
	pairs map[string]*cacheEntry
}

// cacheEntry is one pair's state; its fields are guarded by Cache.mu.
type cacheEntry struct {
	rate      decimal.Decimal
	fetchedAt time.Time // start of the request that got rate; zero: none
	fetch     *fetchCall
	errUntil  time.Time // a rate limit's Retry-After: until then err is returned
	err       error
}

// fetchCall is one request to the source, shared by every waiter.
type fetchCall struct {
	done chan struct{}
	rate decimal.Decimal
	err  error
}

// NewCache returns a Cache in front of src.
func NewCache(src invoice.RateSource, cfg CacheConfig) *Cache {
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = time.Minute
	}
	if cfg.Clock == nil {
		cfg.Clock = invoice.SystemClock{}
	}
	if cfg.FetchTimeout <= 0 {
		cfg.FetchTimeout = 30 * time.Second
	}
	return &Cache{src: src, cfg: cfg, pairs: make(map[string]*cacheEntry)}
}

// Rate returns the cached rate of the pair if it is younger than MaxAge,
// and otherwise asks the source (once, for all concurrent callers).
func (c *Cache) Rate(ctx context.Context, payCurrency, invoiceCurrency string) (decimal.Decimal, error) {
	key := pairKey(payCurrency, invoiceCurrency)
	if c.src == nil {
		return decimal.Decimal{}, rateError(nil, key, "cache has no source")
	}
	c.mu.Lock()
	now := c.cfg.Clock.Now()
	e := c.pairs[key]
	if e == nil {
		e = &cacheEntry{}
		c.pairs[key] = e
	}
	if c.fresh(e, now) {
		r := e.rate
		c.mu.Unlock()
		return r, nil
	}
	if e.err != nil && now.Before(e.errUntil) {
		err := e.err
		c.mu.Unlock()
		return decimal.Decimal{}, err
	}
	call := e.fetch
	if call == nil {
		call = &fetchCall{done: make(chan struct{})}
		e.fetch = call
		go c.run(context.WithoutCancel(ctx), e, call, payCurrency, invoiceCurrency, now)
	}
	c.mu.Unlock()

	select {
	case <-call.done:
		return call.rate, call.err
	case <-ctx.Done():
		return decimal.Decimal{}, rateError(ErrUnavailable, key, "gave up waiting for the rate", ctx.Err())
	}
}

// fresh reports whether e holds a rate younger than MaxAge at now. A rate
// from the future (the clock went back) is not trusted.
func (c *Cache) fresh(e *cacheEntry, now time.Time) bool {
	if e.fetchedAt.IsZero() || now.Before(e.fetchedAt) {
		return false
	}
	return now.Sub(e.fetchedAt) < c.cfg.MaxAge
}

// run asks the source for one pair and hands the answer to every waiter.
func (c *Cache) run(ctx context.Context, e *cacheEntry, call *fetchCall, pay, inv string, started time.Time) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.FetchTimeout)
	defer cancel()
	rate, err := c.src.Rate(ctx, pay, inv)
	if err == nil && !rate.IsPositive() {
		err = rateError(ErrNonPositive, pairKey(pay, inv), fmt.Sprintf("source gave %s", rate))
	}
	c.mu.Lock()
	if took := c.cfg.Clock.Now().Sub(started); err == nil && took >= c.cfg.MaxAge {
		// The source took longer than MaxAge: its rate may already be too old.
		err = rateError(ErrStale, pairKey(pay, inv), fmt.Sprintf("source took %s, more than MaxAge %s", took, c.cfg.MaxAge))
	}
	e.fetch = nil
	if err == nil {
		if started.After(e.fetchedAt) {
			e.rate, e.fetchedAt = rate, started
		}
		e.err, e.errUntil = nil, time.Time{}
		call.rate = rate
	} else {
		call.err = err
		if fe, ok := asFeedError(err); ok && fe.RetryAfter > 0 {
			e.err, e.errUntil = err, c.cfg.Clock.Now().Add(fe.RetryAfter)
		}
	}
	c.mu.Unlock()
	close(call.done)
}
