package rates

import (
	"context"
	"maps"

	"github.com/cryptoinvoice/invoice"
	"github.com/shopspring/decimal"
)

// MarketSymbols returns the default renames for Symbols: the currency
// table's codes that name a token on one network (as CoinsPaid names
// them) to the market symbol price feeds quote: USDTE (Tether on
// Ethereum) and USDTT (Tether on Tron) → USDT, USDCE (USD Coin on
// Ethereum) → USDC, EURCE (EURC on Ethereum) → EURC.
func MarketSymbols() map[string]string {
	return map[string]string{"USDTE": "USDT", "USDTT": "USDT", "USDCE": "USDC", "EURCE": "EURC"}
}

// Symbols returns a RateSource that asks src with both currency codes
// renamed by symbols (codes not in it pass unchanged), so that a feed
// asked for USDTE/EUR quotes USDT/EUR. Wrap the feeds (or the Median or
// Cache over them) with Symbols(src, MarketSymbols()) when the currency
// table has network-specific token codes such as the default USDTE. The
// map is copied.
func Symbols(src invoice.RateSource, symbols map[string]string) invoice.RateSource {
	return &renamed{src: src, symbols: maps.Clone(symbols)}
}

type renamed struct {
	src     invoice.RateSource
	symbols map[string]string
}

// Name is the wrapped source's name, for Median's and Fallback's logs.
func (r *renamed) Name() string { return sourceName(0, r.src) }

func (r *renamed) Rate(ctx context.Context, pay, inv string) (decimal.Decimal, error) {
	if s, ok := r.symbols[pay]; ok {
		pay = s
	}
	if s, ok := r.symbols[inv]; ok {
		inv = s
	}
	return r.src.Rate(ctx, pay, inv)
}
