package rates_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/rates"
	"github.com/shopspring/decimal"
)

func TestSymbols(t *testing.T) {
	feed := invoice.MustStaticRates("USDT/EUR=0.92", "BTC/EUR=60000", "BTC/USDC=65000")
	src := rates.Symbols(feed, rates.MarketSymbols())
	ctx := context.Background()
	for _, tc := range []struct{ pay, inv, want string }{
		{"USDTE", "EUR", "0.92"}, // Tether on Ethereum is priced as USDT
		{"USDTT", "EUR", "0.92"}, // and so is Tether on Tron
		{"BTC", "EUR", "60000"},  // other codes pass unchanged
		{"BTC", "USDCE", "65000"},
	} {
		r, err := src.Rate(ctx, tc.pay, tc.inv)
		if err != nil || !r.Equal(decimal.RequireFromString(tc.want)) {
			t.Errorf("%s/%s = %s, %v; want %s", tc.pay, tc.inv, r, err, tc.want)
		}
	}
	if _, err := src.Rate(ctx, "LTC", "EUR"); !errors.Is(err, invoice.ErrRate) {
		t.Errorf("LTC/EUR: %v, want ErrRate", err)
	}
}

// The default currency table's USDTE is quoted by feeds that know USDT.
func TestSymbolsWithTheDefaultTable(t *testing.T) {
	feed := invoice.MustStaticRates("BTC/EUR=60000", "BCH/EUR=400", "LTC/EUR=80", "ETH/EUR=3000", "USDT/EUR=1")
	h := invoicetest.New(t, func(c *invoice.Config) { c.Rates = rates.Symbols(feed, rates.MarketSymbols()) })
	inv, err := h.Engine.Create(context.Background(), invoice.CreateRequest{
		ForeignID: "q", Title: "Quotes", Amount: decimal.NewFromInt(100), Currency: "EUR", Timer: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if q, ok := inv.Quote("USDTE"); !ok || !q.Amount.Equal(decimal.NewFromInt(100)) {
		t.Fatalf("USDTE quote %+v, %v", q, ok)
	}
}
