package rates

import (
	"context"
	"fmt"

	"github.com/cryptoinvoice/invoice"
	"github.com/shopspring/decimal"
)

// Fallback returns a RateSource that asks sources in order and returns the
// first positive rate. When every source fails, the error matches
// invoice.ErrRate and each source's error. It stops early when ctx ends.
func Fallback(sources ...invoice.RateSource) invoice.RateSource {
	return fallback(append([]invoice.RateSource(nil), sources...))
}

type fallback []invoice.RateSource

func (f fallback) Rate(ctx context.Context, payCurrency, invoiceCurrency string) (decimal.Decimal, error) {
	pair := pairKey(payCurrency, invoiceCurrency)
	var errs []error
	for i, src := range f {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		if src == nil {
			continue
		}
		name := sourceName(i, src)
		r, err := src.Rate(ctx, payCurrency, invoiceCurrency)
		if err == nil && !r.IsPositive() {
			err = fmt.Errorf("%w: rate %s", ErrNonPositive, r)
		}
		if err == nil {
			return r, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", name, err))
	}
	return decimal.Decimal{}, rateError(nil, pair, fmt.Sprintf("all %d sources failed", len(f)), errs...)
}
