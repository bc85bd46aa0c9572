package invoice

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
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
	// The key built in a local buffer: the look-up allocates nothing.
	var buf [32]byte
	key := append(append(append(buf[:0], payCurrency...), '/'), invoiceCurrency...)
	r, ok := s[string(key)]
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
	var rate decimal.Decimal
	if payCurrency == invoiceCurrency {
		rate = decimal.NewFromInt(1)
	} else {
		raw, err := e.cfg.Rates.Rate(ctx, payCurrency, invoiceCurrency)
		if err != nil {
			if errors.Is(err, ErrRate) {
				return Quote{}, err // already says so: no second "no usable rate"
			}
			return Quote{}, fmt.Errorf("%w: %s/%s: %w", ErrRate, payCurrency, invoiceCurrency, err)
		}
		if !raw.IsPositive() {
			return Quote{}, fmt.Errorf("%w: %s/%s rate is %s, must be positive", ErrRate, payCurrency, invoiceCurrency, raw)
		}
		if !usableRate(raw) {
			return Quote{}, fmt.Errorf("%w: %s/%s rate has %d digits and exponent %d, out of bounds",
				ErrRate, payCurrency, invoiceCurrency, raw.NumDigits(), raw.Exponent())
		}
		rate = raw
		if !e.cfg.RateSpreadPercent.IsZero() {
			rate = raw.Mul(e.spreadFactor)
		}
	}
	rate = canonical(rate)
	pay := canonical(PaymentAmount(amount, rate, cur.Precision))
	if int64(pay.NumDigits())+int64(pay.Exponent()) > MaxAmountDigits {
		return Quote{}, fmt.Errorf("%w: %s %s at %s/%s rate %s is %s, not below 10^%d",
			ErrRate, amount, invoiceCurrency, payCurrency, invoiceCurrency, rate, payCurrency, MaxAmountDigits)
	}
	return Quote{Currency: payCurrency, Rate: rate, Amount: pay}, nil
}

// usableRate bounds a rate before any arithmetic with it: at most 40
// fraction digits (after the spread, at most MaxStoredScale) and below
// 10^MaxAmountDigits.
func usableRate(r decimal.Decimal) bool {
	digits, exp := int64(r.NumDigits()), int64(r.Exponent())
	return digits <= 60 && exp >= -40 && digits+exp <= MaxAmountDigits
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
	if q, ok := paymentAmount64(amount, rate, precision); ok {
		return q
	}
	q, rem := amount.QuoRem(rate, precision)
	if !rem.IsZero() {
		q = q.Add(decimal.New(1, -precision))
	}
	return q
}

// paymentAmount64 is PaymentAmount in 64- and 128-bit integer arithmetic,
// for the usual case of positive amounts and rates of at most 18 digits
// and a quotient that fits in 63 bits; ok is false otherwise. With amount
// a·10^ea and rate r·10^er, the result is ceil(a·10^k / r)·10^-precision
// where k = ea - er + precision: the same quotient and exponent that
// decimal's QuoRem gives, rounded up.
func paymentAmount64(amount, rate decimal.Decimal, precision int32) (decimal.Decimal, bool) {
	if !amount.IsPositive() || !rate.IsPositive() || amount.NumDigits() > 18 || rate.NumDigits() > 18 {
		return decimal.Decimal{}, false
	}
	a, r := uint64(amount.CoefficientInt64()), uint64(rate.CoefficientInt64())
	k := int64(amount.Exponent()) - int64(rate.Exponent()) + int64(precision)
	var q, rem uint64
	switch {
	case k >= 0 && k < int64(len(pow10u64)):
		hi, lo := bits.Mul64(a, pow10u64[k])
		if hi >= r {
			return decimal.Decimal{}, false // the quotient needs more than 64 bits
		}
		q, rem = bits.Div64(hi, lo, r)
	case k < 0 && -k < int64(len(pow10u64)):
		hi, d := bits.Mul64(r, pow10u64[-k])
		if hi != 0 {
			return decimal.Decimal{}, false
		}
		q, rem = a/d, a%d
	default:
		return decimal.Decimal{}, false
	}
	if rem != 0 {
		q++
	}
	if q == 0 || q > math.MaxInt64 {
		return decimal.Decimal{}, false
	}
	return decimal.New(int64(q), -precision), true
}

// pow10u64[i] is 10^i.
var pow10u64 = [...]uint64{
	1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
}
