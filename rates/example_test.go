package rates_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/memstore"
	"github.com/cryptoinvoice/invoice/rates"
	"github.com/shopspring/decimal"
)

// fakeFeed stands in for a feed's API, answering body to every request.
func fakeFeed(body string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}))
}

// The engine takes the median of three feeds, behind a cache: however many
// invoices are created at once, each feed is asked once per pair every 30
// seconds, a feed far from the others is ignored and logged, and an
// invoice is refused (invoice.ErrRate) rather than priced on a stale or
// lone rate.
func Example() {
	// Local stand-ins for the feeds: in production leave BaseURL empty.
	coinbase := fakeFeed(`{"data":{"amount":"60123.45","base":"BTC","currency":"EUR"}}`)
	kraken := fakeFeed(`{"error":[],"result":{"XXBTZEUR":{"c":["60125.30000","0.0008"]}}}`)
	binance := fakeFeed(`{"symbol":"BTCEUR","price":"66000.00"}`) // far off
	defer coinbase.Close()
	defer kraken.Close()
	defer binance.Close()

	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // no timestamps, for a stable example
			}
			return a
		},
	}))
	median, err := rates.NewMedian(rates.MedianConfig{
		Sources: []invoice.RateSource{
			&rates.Coinbase{BaseURL: coinbase.URL},
			&rates.Kraken{BaseURL: kraken.URL},
			&rates.Binance{BaseURL: binance.URL},
		},
		MaxDivergencePercent: decimal.NewFromInt(1), // the default
		Timeout:              5 * time.Second,
		Logger:               logger,
	})
	if err != nil {
		panic(err)
	}
	clock := invoice.SystemClock{} // the engine's clock, shared with the cache
	engine, err := invoice.New(invoice.Config{
		Store: memstore.New(),
		Clock: clock,
		Rates: rates.NewCache(median, rates.CacheConfig{MaxAge: 30 * time.Second, Clock: clock}),
		Addresses: invoice.AddressSourceFunc(func(ctx context.Context, inv *invoice.Invoice, currency string) (invoice.Address, error) {
			return invoice.Address{Address: "bc1q-" + inv.ForeignID}, nil
		}),
		Notifier:           invoice.NotifierFunc(func(ctx context.Context, d *invoice.Delivery) error { return nil }),
		CustomerNotifier:   invoice.CustomerNotifierFunc(func(ctx context.Context, n *invoice.RefundNotice) error { return nil }),
		RefundTokenKeys:    [][]byte{invoice.NewRefundTokenKey()}, // in a service: the same secret on every instance
		AcceptedCurrencies: []string{"BTC"},
	})
	if err != nil {
		panic(err)
	}
	inv, err := engine.Create(context.Background(), invoice.CreateRequest{
		ForeignID: "order-42", Title: "Order 42", Amount: decimal.NewFromInt(100), Currency: "EUR",
		Timer: true, SenderCurrency: "BTC", Email: "customer@example.com",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("rate", inv.Rate, "EUR/BTC; pay", inv.SenderAmount, "BTC")
	// Output:
	// level=WARN msg="rates: feed ignored as an outlier" feed=binance pair=BTC/EUR rate=66000 median=60125.3 max_divergence_percent=1
	// rate 60124.375 EUR/BTC; pay 0.00166322 BTC
}

// EUR rates for a coin quoted only in USD or USDT: through a pivot, with a
// fallback from one pivot to the other.
func ExampleCross() {
	usdFeed := invoice.MustStaticRates("BTC/USD=65000", "USD/EUR=0.92") // e.g. &rates.Coinbase{}
	usdtFeed := invoice.MustStaticRates("LTC/USDT=80", "EUR/USDT=1.08") // e.g. &rates.Binance{}
	eurPerUSDT := rates.Inverse(usdtFeed, 12)                           // USDT/EUR from EUR/USDT, truncated
	src := rates.Fallback(
		rates.Cross{Pivot: "USD", First: usdFeed},
		rates.Cross{Pivot: "USDT", First: usdtFeed, Second: eurPerUSDT},
	)
	for _, coin := range []string{"BTC", "LTC"} {
		r, err := src.Rate(context.Background(), coin, "EUR")
		fmt.Println(coin, r, err)
	}
	// Output:
	// BTC 59800 <nil>
	// LTC 74.074074074 <nil>
}
