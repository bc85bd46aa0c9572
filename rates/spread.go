package rates

import (
	"context"
	"fmt"

	"github.com/cryptoinvoice/invoice"
	"github.com/shopspring/decimal"
)

// Spread is a RateSource that lowers its source's rate by a percentage per
// pair (the customer pays that much more), for when the engine's global
// Config.RateSpreadPercent is not enough. Both apply if both are set.
type Spread struct {
	src     invoice.RateSource
	def     decimal.Decimal
	percent map[string]decimal.Decimal
}

// NewSpread returns a Spread: pairs maps "PAY/INVOICE" (e.g. "BTC/EUR") to
// a percentage; other pairs get def. Every percentage must be in [0, 100);
// the error matches invoice.ErrConfig.
func NewSpread(src invoice.RateSource, def decimal.Decimal, pairs map[string]decimal.Decimal) (*Spread, error) {
	if src == nil {
		return nil, fmt.Errorf("%w: rates.NewSpread: nil source", invoice.ErrConfig)
	}
	hundred := decimal.NewFromInt(100)
	bad := func(p decimal.Decimal) bool { return p.IsNegative() || p.GreaterThanOrEqual(hundred) }
	if bad(def) {
		return nil, fmt.Errorf("%w: rates.NewSpread: default spread %s%% out of [0, 100)", invoice.ErrConfig, def)
	}
	cp := make(map[string]decimal.Decimal, len(pairs))
	for k, p := range pairs {
		if bad(p) {
			return nil, fmt.Errorf("%w: rates.NewSpread: %s spread %s%% out of [0, 100)", invoice.ErrConfig, k, p)
		}
		cp[k] = p
	}
	return &Spread{src: src, def: def, percent: cp}, nil
}

// Rate returns the source's rate × (100 − percent) / 100.
func (s *Spread) Rate(ctx context.Context, payCurrency, invoiceCurrency string) (decimal.Decimal, error) {
	pair := pairKey(payCurrency, invoiceCurrency)
	r, err := s.src.Rate(ctx, payCurrency, invoiceCurrency)
	if err != nil {
		return decimal.Decimal{}, err
	}
	if !r.IsPositive() {
		return decimal.Decimal{}, rateError(ErrNonPositive, pair, fmt.Sprintf("source gave %s", r))
	}
	p, ok := s.percent[pair]
	if !ok {
		p = s.def
	}
	if p.IsZero() {
		return r, nil
	}
	return r.Mul(decimal.NewFromInt(100).Sub(p).Shift(-2)), nil
}
