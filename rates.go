package invoice

import (
	"context"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// RateSource gives exchange rates. Rate returns how many units of
// invoiceCurrency one unit of payCurrency is worth (e.g. EUR per BTC).
// A missing pair must be an error; the engine also refuses zero and
// negative rates. It may be called outside any store operation and more
// than once per invoice.
type RateSource interface {
	Rate(ctx context.Context, payCurrency, invoiceCurrency string) (decimal.Decimal, error)
}

// RateSourceFunc adapts a function to RateSource.
type RateSourceFunc func(ctx context.Context, payCurrency, invoiceCurrency string) (decimal.Decimal, error)

// Rate calls f.
func (f RateSourceFunc) Rate(ctx context.Context, payCurrency, invoiceCurrency string) (decimal.Decimal, error) {
	return f(ctx, payCurrency, invoiceCurrency)
}

// StaticRates is a fixed, in-memory RateSource for tests and examples:
// keys are "PAY/INVOICE" pairs such as "BTC/EUR". It is read-only once in
// use (build a new map to change rates).
type StaticRates map[string]decimal.Decimal

// Rate returns the rate for the pair, or an error wrapping ErrRate.
func (s StaticRates) Rate(_ context.Context, payCurrency, invoiceCurrency string) (decimal.Decimal, error) {
	r, ok := s[payCurrency+"/"+invoiceCurrency]
	if !ok {
		return decimal.Decimal{}, fmt.Errorf("%w: no rate for %s/%s", ErrRate, payCurrency, invoiceCurrency)
	}
	return r, nil
}

// MustStaticRates builds StaticRates from "PAY/INVOICE=RATE" strings, e.g.
// MustStaticRates("BTC/EUR=60000", "ETH/EUR=3000"). It panics on a
// malformed entry, so use it only with constants in tests and examples.
func MustStaticRates(pairs ...string) StaticRates {
	s := make(StaticRates, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			panic("invoice: MustStaticRates: want PAY/INVOICE=RATE, got " + p)
		}
		s[k] = decimal.RequireFromString(v)
	}
	return s
}

// fixQuote asks the rate source for the rate of payCurrency in the
// invoice's currency, applies the spread and rounds the payment amount up
// to payCurrency's precision, so the merchant never receives less than
// asked. Paying in the invoice currency itself uses rate 1.
func (e *Engine) fixQuote(ctx context.Context, amount decimal.Decimal, invoiceCurrency, payCurrency string) (Quote, error) {
	cur, ok := e.currencies[payCurrency]
	if !ok {
		return Quote{}, fmt.Errorf("%w: unknown payment currency %s", ErrRate, payCurrency)
	}
	rate := decimal.NewFromInt(1)
	if payCurrency != invoiceCurrency {
		raw, err := e.cfg.Rates.Rate(ctx, payCurrency, invoiceCurrency)
		if err != nil {
			return Quote{}, fmt.Errorf("%w: %s/%s: %w", ErrRate, payCurrency, invoiceCurrency, err)
		}
		if !raw.IsPositive() {
			return Quote{}, fmt.Errorf("%w: %s/%s rate is %s, must be positive", ErrRate, payCurrency, invoiceCurrency, raw)
		}
		rate = raw
		if !e.cfg.RateSpreadPercent.IsZero() {
			rate = raw.Mul(e.spreadFactor)
		}
	}
	rate = canonical(rate)
	return Quote{Currency: payCurrency, Rate: rate, Amount: canonical(PaymentAmount(amount, rate, cur.Precision))}, nil
}

// canonical rescales a decimal with a positive exponent ("15E2") to
// exponent 0 ("1500"), the same value; others are returned as they are.
// Every amount the engine stores is canonical, so SQL numeric columns (which
// have no positive exponents) return exactly what was stored.
func canonical(d decimal.Decimal) decimal.Decimal {
	if d.Exponent() > 0 {
		return decimal.NewFromBigInt(d.BigInt(), 0)
	}
	return d
}

// PaymentAmount returns amount / rate rounded up to precision fraction
// digits: the smallest amount in the payment currency that is worth at
// least amount. rate must be positive.
func PaymentAmount(amount, rate decimal.Decimal, precision int32) decimal.Decimal {
	q, rem := amount.QuoRem(rate, precision)
	if !rem.IsZero() {
		q = q.Add(decimal.New(1, -precision))
	}
	return q
}
