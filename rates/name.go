package rates

import (
	"context"
	"fmt"

	"github.com/cryptoinvoice/invoice"
	"github.com/shopspring/decimal"
)

// Named gives a source a name for logs and errors of Median and Fallback.
// The adapters already have one ("coinbase", ...).
func Named(name string, src invoice.RateSource) invoice.RateSource {
	return &named{name: name, src: src}
}

type named struct {
	name string
	src  invoice.RateSource
}

func (n *named) Name() string { return n.name }

func (n *named) Rate(ctx context.Context, pay, inv string) (decimal.Decimal, error) {
	return n.src.Rate(ctx, pay, inv)
}

// sourceName is src's Name(), or its position and type.
func sourceName(i int, src invoice.RateSource) string {
	if n, ok := src.(interface{ Name() string }); ok {
		return n.Name()
	}
	return fmt.Sprintf("source %d (%T)", i, src)
}
