package rates_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/rates"
	"github.com/shopspring/decimal"
)

func TestFallback(t *testing.T) {
	down := &rates.FeedError{Feed: "a", Pair: "BTC/EUR", StatusCode: 503, Kind: rates.ErrUnavailable}
	a, b, c := static("a", ""), static("b", "0"), static("c", "60000")
	a.set("", down)
	f := rates.Fallback(a, b, c)
	if r, err := f.Rate(context.Background(), "BTC", "EUR"); err != nil || !r.Equal(dec("60000")) {
		t.Fatalf("Rate = %s, %v; want c's 60000 (a down, b zero)", r, err)
	}
	c.set("-5", nil)
	r, err := f.Rate(context.Background(), "BTC", "EUR")
	if !errors.Is(err, invoice.ErrRate) || !errors.Is(err, rates.ErrUnavailable) || !errors.Is(err, rates.ErrNonPositive) || !r.IsZero() {
		t.Fatalf("all failing: Rate = %s, %v", r, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n := a.count()
	if _, err := f.Rate(ctx, "BTC", "EUR"); !errors.Is(err, context.Canceled) || a.count() != n {
		t.Fatalf("cancelled: %v, and %d calls", err, a.count()-n)
	}
	if _, err := rates.Fallback().Rate(context.Background(), "BTC", "EUR"); !errors.Is(err, invoice.ErrRate) {
		t.Fatalf("empty Fallback: %v", err)
	}
}

func TestCross(t *testing.T) {
	usd := invoice.MustStaticRates("BTC/USD=65000.5", "USDT/USD=0.9995", "USD/EUR=0.92")
	eurUSD := invoice.MustStaticRates("EUR/USD=1.08")
	ctx := context.Background()
	tests := []struct {
		name     string
		cross    rates.Cross
		pay, inv string
		want     string // "" expects an error
	}{
		{"BTC/EUR via USD", rates.Cross{Pivot: "USD", First: usd}, "BTC", "EUR", "59800.46"},
		{"USD/EUR: pivot is the pay currency", rates.Cross{Pivot: "USD", First: usd}, "USD", "EUR", "0.92"},
		{"BTC/USD: pivot is the invoice currency", rates.Cross{Pivot: "USD", First: usd}, "BTC", "USD", "65000.5"},
		{"second leg from another source", rates.Cross{Pivot: "USD", First: usd, Second: invoice.MustStaticRates("USD/EUR=0.9")}, "BTC", "EUR", "58500.45"},
		{"missing leg", rates.Cross{Pivot: "USD", First: usd}, "ETH", "EUR", ""},
		{"no pivot", rates.Cross{First: usd}, "BTC", "EUR", ""},
		{"zero leg", rates.Cross{Pivot: "USD", First: invoice.MustStaticRates("BTC/USD=0", "USD/EUR=1")}, "BTC", "EUR", ""},
		{"inverse second leg", rates.Cross{Pivot: "USD", First: usd, Second: rates.Inverse(eurUSD, 12)}, "BTC", "EUR", "60185.6481480879625"}, // 65000.5 × 0.925925925925 (1/1.08 truncated to 12 places)
		{"inverse of a missing pair", rates.Cross{Pivot: "USD", First: usd, Second: rates.Inverse(eurUSD, 12)}, "BTC", "GBP", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cross.Rate(ctx, tt.pay, tt.inv)
			if tt.want == "" {
				if !errors.Is(err, invoice.ErrRate) || !got.IsZero() {
					t.Fatalf("Rate = %s, %v; want an ErrRate", got, err)
				}
				return
			}
			if err != nil || !got.Equal(dec(tt.want)) {
				t.Fatalf("Rate = %s, %v; want %s", got, err, tt.want)
			}
		})
	}
	// "EUR via USD or USDT": the second cross answers when the first cannot.
	usdt := invoice.MustStaticRates("LTC/USDT=80", "USDT/EUR=0.9")
	f := rates.Fallback(rates.Cross{Pivot: "USD", First: usd}, rates.Cross{Pivot: "USDT", First: usdt})
	if r, err := f.Rate(ctx, "LTC", "EUR"); err != nil || !r.Equal(dec("72")) {
		t.Fatalf("LTC/EUR via USD or USDT = %s, %v", r, err)
	}
}

func TestInverse(t *testing.T) {
	src := invoice.MustStaticRates("EUR/USD=1.08", "EUR/XYZ=0", "EUR/BIG=1e20")
	ctx := context.Background()
	r, err := rates.Inverse(src, 8).Rate(ctx, "USD", "EUR")
	if err != nil || !r.Equal(dec("0.92592592")) { // 0.925925925…, truncated, never rounded up
		t.Fatalf("USD/EUR = %s, %v", r, err)
	}
	for _, inv := range []string{"XYZ", "BIG", "NONE"} {
		if r, err := rates.Inverse(src, 8).Rate(ctx, inv, "EUR"); !errors.Is(err, invoice.ErrRate) || !r.IsZero() {
			t.Errorf("%s/EUR = %s, %v; want ErrRate", inv, r, err)
		}
	}
}

func TestSpread(t *testing.T) {
	src := invoice.MustStaticRates("BTC/EUR=60000", "ETH/EUR=3000", "LTC/EUR=0")
	s, err := rates.NewSpread(src, dec("0.5"), map[string]decimal.Decimal{"BTC/EUR": dec("1.5")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for pair, want := range map[[2]string]string{{"BTC", "EUR"}: "59100", {"ETH", "EUR"}: "2985"} {
		if r, err := s.Rate(ctx, pair[0], pair[1]); err != nil || !r.Equal(dec(want)) {
			t.Errorf("%v = %s, %v; want %s", pair, r, err, want)
		}
	}
	if r, err := s.Rate(ctx, "LTC", "EUR"); !errors.Is(err, rates.ErrNonPositive) || !r.IsZero() {
		t.Errorf("zero source rate: %s, %v", r, err)
	}
	if _, err := s.Rate(ctx, "BCH", "EUR"); !errors.Is(err, invoice.ErrRate) {
		t.Errorf("missing pair: %v", err)
	}
	for _, bad := range []struct {
		def   string
		pairs map[string]decimal.Decimal
	}{
		{"-1", nil}, {"100", nil}, {"0", map[string]decimal.Decimal{"BTC/EUR": dec("100")}}, {"0", map[string]decimal.Decimal{"BTC/EUR": dec("-0.1")}},
	} {
		if _, err := rates.NewSpread(src, dec(bad.def), bad.pairs); !errors.Is(err, invoice.ErrConfig) {
			t.Errorf("NewSpread(%s, %v) = %v, want ErrConfig", bad.def, bad.pairs, err)
		}
	}
	if _, err := rates.NewSpread(nil, decimal.Zero, nil); !errors.Is(err, invoice.ErrConfig) {
		t.Errorf("nil source: %v", err)
	}
}

// Named names a source in Median's logs and Fallback's errors.
func TestNamed(t *testing.T) {
	src := rates.Named("ecb", invoice.MustStaticRates())
	_, err := rates.Fallback(src).Rate(context.Background(), "USD", "EUR")
	if err == nil || !strings.Contains(err.Error(), "ecb: ") {
		t.Fatalf("error %v does not name the source", err)
	}
}
