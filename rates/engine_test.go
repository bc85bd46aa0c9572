package rates_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/rates"
	"github.com/shopspring/decimal"
)

// threeFeeds starts Coinbase, Kraken and Binance stand-ins for BTC/EUR.
func threeFeeds(t *testing.T, delay time.Duration) (srvs []*feedServer, uris []string, sources []invoice.RateSource) {
	cb := newFeedServer(t, map[string]reply{coinbaseBTCEUR: {file: "coinbase/spot_btc_eur.json", delay: delay}})
	kr := newFeedServer(t, map[string]reply{krakenBTCEUR: {file: "kraken/ticker_xbteur.json", delay: delay}})
	bn := newFeedServer(t, map[string]reply{binanceBTCEUR: {file: "binance/price_btceur.json", delay: delay}})
	return []*feedServer{cb, kr, bn}, []string{coinbaseBTCEUR, krakenBTCEUR, binanceBTCEUR}, []invoice.RateSource{
		&rates.Coinbase{BaseURL: cb.URL, Client: cb.Client()},
		&rates.Kraken{BaseURL: kr.URL, Client: kr.Client()},
		&rates.Binance{BaseURL: bn.URL, Client: bn.Client()},
	}
}

// Many invoices created at once through the engine ask each feed once per
// cache period, and all get the same rate.
func TestEngineManyInvoicesOneRequestPerFeed(t *testing.T) {
	srvs, uris, sources := threeFeeds(t, 50*time.Millisecond)
	median, err := rates.NewMedian(rates.MedianConfig{Sources: sources})
	if err != nil {
		t.Fatal(err)
	}
	h := invoicetest.New(t, func(c *invoice.Config) {
		c.Rates = rates.NewCache(median, rates.CacheConfig{MaxAge: 30 * time.Second, Clock: c.Clock})
	})
	create := func(n, from int) {
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				inv, err := h.Engine.Create(context.Background(), invoice.CreateRequest{
					ForeignID: fmt.Sprintf("order-%d", from+i), Title: "Order", Amount: decimal.NewFromInt(100), Currency: "EUR",
					Timer: true, SenderCurrency: "BTC", Email: "customer@example.com",
				})
				if err != nil {
					t.Errorf("Create: %v", err)
					return
				}
				if !inv.Rate.Equal(dec("60123.45")) { // median of 60123.45, 60125.30, 60120.01
					t.Errorf("rate %s, want 60123.45", inv.Rate)
				}
			})
		}
		wg.Wait()
	}
	create(100, 0)
	for i, s := range srvs {
		if n := s.count(uris[i]); n != 1 {
			t.Errorf("feed %d asked %d times for 100 invoices, want 1", i, n)
		}
	}
	h.Clock.Advance(30 * time.Second)
	create(100, 100)
	for i, s := range srvs {
		if n := s.count(uris[i]); n != 2 {
			t.Errorf("feed %d asked %d times over two cache periods, want 2", i, n)
		}
	}
}

// When too few feeds answer, the engine refuses the invoice with
// invoice.ErrRate instead of pricing it.
func TestEngineRefusesInvoiceWithoutRate(t *testing.T) {
	srvs, uris, sources := threeFeeds(t, 0)
	srvs[0].setRoute(uris[0], reply{status: 429, file: "coinbase/error_rate_limit.json"})
	srvs[1].setRoute(uris[1], reply{file: "kraken/error_unavailable.json"})
	median, _ := rates.NewMedian(rates.MedianConfig{Sources: sources})
	h := invoicetest.New(t, func(c *invoice.Config) {
		c.Rates = rates.NewCache(median, rates.CacheConfig{Clock: c.Clock})
	})
	_, err := h.Engine.Create(context.Background(), invoice.CreateRequest{
		ForeignID: "order-1", Title: "Order", Amount: decimal.NewFromInt(100), Currency: "EUR",
		Timer: true, SenderCurrency: "BTC", Email: "customer@example.com",
	})
	if !errors.Is(err, invoice.ErrRate) || !errors.Is(err, rates.ErrDiverged) || !errors.Is(err, rates.ErrRateLimited) {
		t.Fatalf("Create: %v, want invoice.ErrRate (feeds diverged, one rate-limited)", err)
	}
	if _, err := h.Engine.Get(context.Background(), "order-1"); !errors.Is(err, invoice.ErrNotFound) {
		t.Fatalf("an invoice was stored: %v", err)
	}
}
