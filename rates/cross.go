package rates

import (
	"context"
	"fmt"

	"github.com/cryptoinvoice/invoice"
	"github.com/shopspring/decimal"
)

// Cross is a RateSource for pairs no feed quotes directly: the rate of
// PAY/INVOICE is PAY/Pivot × Pivot/INVOICE, e.g. BTC/EUR as BTC/USD ×
// USD/EUR. The product is exact. When PAY or INVOICE is the pivot itself,
// only the other leg is asked. For "EUR via USD or USDT" use
// Fallback(Cross{Pivot: "USD", ...}, Cross{Pivot: "USDT", ...}).
type Cross struct {
	// Pivot is the currency in between, e.g. "USD" or "USDT". Required.
	Pivot string
	// First gives PAY/Pivot (e.g. BTC/USD). Required.
	First invoice.RateSource
	// Second gives Pivot/INVOICE (e.g. USD/EUR). Default First. Wrap a
	// source that quotes only EUR/USD in Inverse.
	Second invoice.RateSource
}

// Rate returns PAY/Pivot × Pivot/INVOICE.
func (c Cross) Rate(ctx context.Context, payCurrency, invoiceCurrency string) (decimal.Decimal, error) {
	pair := pairKey(payCurrency, invoiceCurrency)
	if c.Pivot == "" || c.First == nil {
		return decimal.Decimal{}, rateError(nil, pair, "cross rate needs a Pivot and a First source")
	}
	second := c.Second
	if second == nil {
		second = c.First
	}
	leg := func(src invoice.RateSource, pay, inv string) (decimal.Decimal, error) {
		if pay == inv {
			return decimal.NewFromInt(1), nil
		}
		r, err := src.Rate(ctx, pay, inv)
		if err != nil {
			return decimal.Decimal{}, err
		}
		if !r.IsPositive() {
			return decimal.Decimal{}, rateError(ErrNonPositive, pairKey(pay, inv), fmt.Sprintf("rate %s", r))
		}
		return r, nil
	}
	a, err := leg(c.First, payCurrency, c.Pivot)
	if err != nil {
		return decimal.Decimal{}, rateError(nil, pair, "via "+c.Pivot, err)
	}
	b, err := leg(second, c.Pivot, invoiceCurrency)
	if err != nil {
		return decimal.Decimal{}, rateError(nil, pair, "via "+c.Pivot, err)
	}
	return a.Mul(b), nil
}

// Inverse returns a RateSource giving A/B as 1 / (B/A) from src, truncated
// to places fraction digits: never rounded up, so the customer never pays
// less than the exact inverse asks. Use it for a feed that quotes EUR/USD
// when USD/EUR is needed. places must leave enough significant digits
// (12 or more is usual).
func Inverse(src invoice.RateSource, places int32) invoice.RateSource {
	return inverse{src: src, places: places}
}

type inverse struct {
	src    invoice.RateSource
	places int32
}

func (v inverse) Rate(ctx context.Context, payCurrency, invoiceCurrency string) (decimal.Decimal, error) {
	pair := pairKey(payCurrency, invoiceCurrency)
	r, err := v.src.Rate(ctx, invoiceCurrency, payCurrency)
	if err != nil {
		return decimal.Decimal{}, rateError(nil, pair, "inverse of "+pairKey(invoiceCurrency, payCurrency), err)
	}
	if !r.IsPositive() {
		return decimal.Decimal{}, rateError(ErrNonPositive, pair, fmt.Sprintf("inverse of %s", r))
	}
	q, _ := decimal.NewFromInt(1).QuoRem(r, v.places) // truncated toward zero
	if !q.IsPositive() {
		return decimal.Decimal{}, rateError(ErrNonPositive, pair, fmt.Sprintf("1/%s is zero at %d places", r, v.places))
	}
	return q, nil
}
