package invoice

import (
	"context"
	"fmt"
	"slices"
)

// Read-only helpers for customer-facing pages (package checkout): what a
// customer may choose and what a TypeNoTimer invoice would cost now.

// AcceptedCurrencies returns the payment currencies customers may choose
// (Config.AcceptedCurrencies after defaults), in configured order. The
// slice is a copy.
func (e *Engine) AcceptedCurrencies() []string { return slices.Clone(e.cfg.AcceptedCurrencies) }

// Currency returns the currency table's entry for code.
func (e *Engine) Currency(code string) (Currency, bool) {
	c, ok := e.currencies[code]
	return c, ok
}

// IndicativeQuote returns the quote inv would get in currency if its rate
// were fixed now: the rate source asked, the spread applied and the amount
// rounded up exactly as ConfirmPayment does for a TypeNoTimer invoice.
// Nothing is fixed or stored: the customer's confirmation asks the rate
// source again. For invoices whose quotes are fixed (TypeTimer,
// TypeTimerCurrency) use Invoice.Quote and Invoice.SenderAmount instead. A
// currency customers may not choose is an error matching ErrRate.
func (e *Engine) IndicativeQuote(ctx context.Context, inv *Invoice, currency string) (Quote, error) {
	if !e.accepts(currency) {
		return Quote{}, fmt.Errorf("%w: %s is not an accepted payment currency", ErrRate, currency)
	}
	return e.fixQuote(ctx, inv.Amount, inv.Currency, currency)
}
