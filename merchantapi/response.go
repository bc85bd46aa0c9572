package merchantapi

import (
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/shopspring/decimal"
)

// Invoice is the API's view of an invoice: the "data" of create, cancel
// and read answers and each entry of a listing. Values that do not exist
// yet are null, except fixed_at and release_at, which are left out (see
// the package documentation).
type Invoice struct {
	ID               int64   `json:"id"`                 // the invoice's Number
	URL              *string `json:"url"`                // the customer's checkout link; null without Engine CheckoutBaseURL
	ForeignID        string  `json:"foreign_id"`         // the merchant's id
	EndUserReference *string `json:"end_user_reference"` // null when not given
	Address          *string `json:"address"`            // deposit address; null until the payment currency is fixed
	Tag              *string `json:"tag"`                // the address's tag or memo; null when it has none
	Title            string  `json:"title"`
	Name             string  `json:"name"` // the title again, for clients that read name
	Description      string  `json:"description"`
	Status           string  `json:"status"`   // created, pending, processing, confirmed, failed
	Error            string  `json:"error"`    // why a failed invoice failed; "" otherwise
	Type             string  `json:"type"`     // fill_or_kill or good_until_expired
	Currency         string  `json:"currency"` // invoice currency
	Amount           string  `json:"amount"`   // decimal string, at least 8 fraction digits
	SenderCurrency   *string `json:"sender_currency"`
	SenderAmount     *string `json:"sender_amount"` // decimal string, at least 8 fraction digits
	// FixedAt is when the rate was fixed (unix seconds); left out until then.
	FixedAt *int64 `json:"fixed_at,omitempty"`
	// ReleaseAt is when the payment window ends (unix seconds); left out
	// while there is none.
	ReleaseAt *int64 `json:"release_at,omitempty"`
	// SecondsLeft until the invoice's current deadline (the payment window,
	// or the processing window once funds are seen); 0 once final or
	// overdue; null while no timer runs.
	SecondsLeft *int64 `json:"seconds_left"`
	CreatedAt   int64  `json:"created_at"` // unix seconds
}

// money renders a decimal with at least 8 fraction digits (more when the
// value has more, so that no precision is lost: ETH has 18).
func money(d decimal.Decimal) string {
	return d.StringFixed(max(8, -d.Exponent()))
}

func ptr[T any](v T) *T { return &v }

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func unixPtr(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	return ptr(t.Unix())
}

// render builds the API view of inv at now.
func render(e *invoice.Engine, inv *invoice.Invoice, now time.Time) Invoice {
	out := Invoice{
		ID:               inv.Number,
		URL:              optString(e.CheckoutURL(inv)),
		ForeignID:        inv.ForeignID,
		EndUserReference: optString(inv.EndUserReference),
		Address:          optString(inv.Deposit.Address),
		Tag:              optString(inv.Deposit.Tag),
		Title:            inv.Title,
		Name:             inv.Title,
		Description:      inv.Description,
		Status:           inv.Status.String(),
		Error:            inv.Error,
		Type:             inv.Mode.String(),
		Currency:         inv.Currency,
		Amount:           money(inv.Amount),
		SenderCurrency:   optString(inv.SenderCurrency),
		FixedAt:          unixPtr(inv.FixedAt),
		ReleaseAt:        unixPtr(inv.ExpiresAt),
		CreatedAt:        inv.CreatedAt.Unix(),
	}
	if inv.SenderCurrency != "" {
		out.SenderAmount = ptr(money(inv.SenderAmount))
	}
	deadline := inv.Deadline
	if deadline.IsZero() {
		deadline = inv.ExpiresAt
	}
	switch {
	case inv.Status.IsFinal():
		out.SecondsLeft = ptr[int64](0)
	case !deadline.IsZero():
		out.SecondsLeft = ptr(max(0, int64(deadline.Sub(now)/time.Second)))
	}
	return out
}
