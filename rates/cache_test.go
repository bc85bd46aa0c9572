package rates_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/rates"
	"github.com/shopspring/decimal"
)

// Many invoices asking at once cause one upstream request per pair per
// cache period.
func TestCacheOneRequestPerPairPerPeriod(t *testing.T) {
	const ethEUR = "/v2/prices/ETH-EUR/spot"
	srv := newFeedServer(t, map[string]reply{
		coinbaseBTCEUR: {file: "coinbase/spot_btc_eur.json", delay: 100 * time.Millisecond},
		ethEUR:         {body: `{"data":{"amount":"3000.10","base":"ETH","currency":"EUR"}}`, delay: 100 * time.Millisecond},
	})
	clock := invoicetest.NewClock(invoicetest.Epoch)
	cache := rates.NewCache(&rates.Coinbase{BaseURL: srv.URL, Client: srv.Client()}, rates.CacheConfig{MaxAge: time.Minute, Clock: clock})

	wave := func() {
		t.Helper()
		var wg sync.WaitGroup
		for i := range 200 {
			pay, want := "BTC", dec("60123.45")
			if i%2 == 1 {
				pay, want = "ETH", dec("3000.10")
			}
			wg.Go(func() {
				r, err := cache.Rate(context.Background(), pay, "EUR")
				if err != nil || !r.Equal(want) {
					t.Errorf("%s/EUR = %s, %v; want %s", pay, r, err, want)
				}
			})
		}
		wg.Wait()
	}
	wave()
	if b, e := srv.count(coinbaseBTCEUR), srv.count(ethEUR); b != 1 || e != 1 {
		t.Fatalf("first period: %d BTC and %d ETH requests, want 1 each", b, e)
	}
	clock.Advance(time.Minute - time.Nanosecond)
	wave()
	if b, e := srv.count(coinbaseBTCEUR), srv.count(ethEUR); b != 1 || e != 1 {
		t.Fatalf("still in the first period: %d BTC and %d ETH requests, want 1 each", b, e)
	}
	clock.Advance(time.Nanosecond) // exactly MaxAge old: stale
	wave()
	if b, e := srv.count(coinbaseBTCEUR), srv.count(ethEUR); b != 2 || e != 2 {
		t.Fatalf("second period: %d BTC and %d ETH requests, want 2 each", b, e)
	}
}

// A rate past MaxAge is never served, even when the source now fails.
func TestCacheNeverServesStale(t *testing.T) {
	clock := invoicetest.NewClock(invoicetest.Epoch)
	src := static("s", "60000")
	cache := rates.NewCache(src, rates.CacheConfig{MaxAge: 30 * time.Second, Clock: clock})
	ctx := context.Background()
	if r, err := cache.Rate(ctx, "BTC", "EUR"); err != nil || !r.Equal(dec("60000")) {
		t.Fatalf("Rate = %s, %v", r, err)
	}
	src.set("", &rates.FeedError{Feed: "s", Pair: "BTC/EUR", StatusCode: 502, Kind: rates.ErrUnavailable})
	clock.Advance(29 * time.Second)
	if r, err := cache.Rate(ctx, "BTC", "EUR"); err != nil || !r.Equal(dec("60000")) {
		t.Fatalf("within MaxAge: Rate = %s, %v", r, err)
	}
	clock.Advance(time.Second)
	r, err := cache.Rate(ctx, "BTC", "EUR")
	if err == nil || !errors.Is(err, invoice.ErrRate) || !errors.Is(err, rates.ErrUnavailable) || !r.IsZero() {
		t.Fatalf("past MaxAge with a failing source: Rate = %s, %v; want the source's error", r, err)
	}
	// Errors are not cached: the next call asks again.
	n := src.count()
	src.set("61000", nil)
	if r, err := cache.Rate(ctx, "BTC", "EUR"); err != nil || !r.Equal(dec("61000")) {
		t.Fatalf("after recovery: Rate = %s, %v", r, err)
	}
	if src.count() != n+1 {
		t.Errorf("source asked %d times after recovery, want 1", src.count()-n)
	}
	// A clock that went back does not make an old rate young.
	clock.Advance(-time.Hour)
	cache.Rate(ctx, "BTC", "EUR")
	if src.count() != n+2 {
		t.Error("a rate from the future was served")
	}
}

// Zero and negative rates are errors and not cached.
func TestCacheRefusesNonPositive(t *testing.T) {
	for _, v := range []string{"0", "-1"} {
		cache := rates.NewCache(static("s", v), rates.CacheConfig{Clock: invoicetest.NewClock(time.Time{})})
		r, err := cache.Rate(context.Background(), "BTC", "EUR")
		if !errors.Is(err, invoice.ErrRate) || !errors.Is(err, rates.ErrNonPositive) || !r.IsZero() {
			t.Errorf("source rate %s: Rate = %s, %v; want ErrNonPositive", v, r, err)
		}
	}
}

// A source slower than MaxAge gives a stale rate: an error, not the rate.
func TestCacheSlowSourceIsStale(t *testing.T) {
	clock := invoicetest.NewClock(invoicetest.Epoch)
	src := invoice.RateSourceFunc(func(ctx context.Context, pay, inv string) (decimal.Decimal, error) {
		clock.Advance(2 * time.Minute)
		return dec("60000"), nil
	})
	cache := rates.NewCache(src, rates.CacheConfig{MaxAge: time.Minute, Clock: clock})
	if _, err := cache.Rate(context.Background(), "BTC", "EUR"); !errors.Is(err, rates.ErrStale) || !errors.Is(err, invoice.ErrRate) {
		t.Fatalf("error %v, want ErrStale", err)
	}
}

// A caller that gives up does not fail the others waiting for the pair,
// and the request goes on for them.
func TestCacheCallerGivesUp(t *testing.T) {
	src := &staticSource{name: "slow", rate: dec("60000"), delay: 150 * time.Millisecond}
	cache := rates.NewCache(src, rates.CacheConfig{Clock: invoicetest.NewClock(time.Time{})})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := cache.Rate(ctx, "BTC", "EUR"); !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, invoice.ErrRate) {
			t.Errorf("impatient caller: %v, want DeadlineExceeded", err)
		}
	})
	time.Sleep(5 * time.Millisecond)
	r, err := cache.Rate(context.Background(), "BTC", "EUR")
	wg.Wait()
	if err != nil || !r.Equal(dec("60000")) {
		t.Fatalf("patient caller: %s, %v", r, err)
	}
	if src.count() != 1 {
		t.Errorf("source asked %d times, want 1", src.count())
	}
}

// A rate-limited feed's Retry-After is honoured: no request until it passed.
func TestCacheHonoursRetryAfter(t *testing.T) {
	srv := newFeedServer(t, map[string]reply{binanceBTCEUR: {status: 429, file: "binance/error_too_many_requests.json",
		header: map[string]string{"Retry-After": "30"}}})
	clock := invoicetest.NewClock(invoicetest.Epoch)
	cache := rates.NewCache(&rates.Binance{BaseURL: srv.URL, Client: srv.Client()}, rates.CacheConfig{Clock: clock})
	ctx := context.Background()
	for range 5 {
		if _, err := cache.Rate(ctx, "BTC", "EUR"); !errors.Is(err, rates.ErrRateLimited) {
			t.Fatalf("error %v, want ErrRateLimited", err)
		}
		clock.Advance(5 * time.Second)
	}
	if n := srv.count(binanceBTCEUR); n != 1 {
		t.Fatalf("%d requests within Retry-After, want 1", n)
	}
	srv.setRoute(binanceBTCEUR, reply{file: "binance/price_btceur.json"})
	clock.Advance(5 * time.Second) // 30 s after the 429
	if r, err := cache.Rate(ctx, "BTC", "EUR"); err != nil || !r.Equal(dec("60120.01")) {
		t.Fatalf("after Retry-After: %s, %v", r, err)
	}
}

// A Cache without a source is an error, not a panic.
func TestCacheNilSource(t *testing.T) {
	if _, err := rates.NewCache(nil, rates.CacheConfig{}).Rate(context.Background(), "BTC", "EUR"); !errors.Is(err, invoice.ErrRate) {
		t.Fatalf("error %v, want invoice.ErrRate", err)
	}
}
