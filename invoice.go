package invoice

import (
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Invoice is one request for payment and everything that happened to it.
// Values returned by the Engine and by stores are copies: changing them
// changes nothing stored.
type Invoice struct {
	ID uuid.UUID `json:"uuid"` // internal identity, from Config.NewID
	// Number is the numeric id callbacks carry ("id"). The store assigns it
	// on create: unique, positive, below 2^53 / 1,000,000.
	Number           int64       `json:"id"`
	ForeignID        string      `json:"foreign_id"`
	EndUserReference string      `json:"end_user_reference,omitempty"`
	Type             Type        `json:"type"`
	Mode             PaymentMode `json:"payment_mode"`
	Title            string      `json:"title"`
	Description      string      `json:"description,omitempty"`
	// CheckoutToken is the invoice's public token: random (130 bits), set
	// by Create, never changed. It names the invoice in the customer's
	// checkout link (Engine.CheckoutURL) instead of its Number or ID; see
	// Engine.GetByCheckoutToken.
	CheckoutToken string `json:"checkout_token"`

	Amount   decimal.Decimal `json:"amount"`   // what the merchant wants
	Currency string          `json:"currency"` // invoice currency, e.g. "EUR"

	// SenderCurrency, SenderAmount and Rate are the fixed payment terms
	// (empty / zero until fixed).
	SenderCurrency string          `json:"sender_currency,omitempty"`
	SenderAmount   decimal.Decimal `json:"sender_amount"`
	Rate           decimal.Decimal `json:"rate"`
	// Quotes is the quote table of a TypeTimer invoice, sorted by currency.
	Quotes []Quote `json:"quotes,omitempty"`

	FixedAt   time.Time `json:"fixed_at,omitzero"`   // when the rate was fixed
	ExpiresAt time.Time `json:"expires_at,omitzero"` // end of the payment window

	Deposit Address `json:"deposit,omitzero"` // empty until the currency is known

	Email      string `json:"email_user,omitempty"`
	URLSuccess string `json:"url_success,omitempty"`
	URLFailed  string `json:"url_failed,omitempty"`

	Status Status `json:"status"`
	// Error is the failure reason of a failed invoice, one of the Reason*
	// texts; "" otherwise.
	Error string `json:"error"`

	Transactions []Transaction `json:"transactions,omitempty"`
	RefundClaims []RefundClaim `json:"refund_claims,omitempty"`

	// Deadline is when the sweep must next act on the invoice (end of the
	// payment or processing window); zero when nothing is due.
	Deadline time.Time `json:"deadline,omitzero"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Version increases by one with every stored change. Stores use it for
	// optimistic concurrency: see Store.UpdateInvoice.
	Version int64 `json:"version"`
}

// Clone returns a deep copy of inv.
func (inv *Invoice) Clone() *Invoice {
	if inv == nil {
		return nil
	}
	if len(inv.Transactions) == 1 && inv.Quotes == nil && inv.RefundClaims == nil {
		// The usual paid invoice: the copy and its one transaction in one
		// allocation (640 bytes, the size class the two fill apart).
		b := new(invoiceWithTx)
		b.inv = *inv
		b.tx[0] = inv.Transactions[0]
		b.inv.Transactions = b.tx[:1:1]
		return &b.inv
	}
	cp := new(Invoice)
	inv.CopyInto(cp)
	return cp
}

// invoiceWithTx is a Clone of an invoice with one transaction.
type invoiceWithTx struct {
	inv Invoice
	tx  [1]Transaction
}

// CopyInto sets *dst to a deep copy of inv, reusing dst's memory for the
// Invoice itself (stores use it to keep a copy without a new allocation).
func (inv *Invoice) CopyInto(dst *Invoice) {
	*dst = *inv
	if inv.Quotes != nil || inv.Transactions != nil || inv.RefundClaims != nil {
		dst.unshareSlices()
	}
}

// unshareSlices replaces inv's slices, shared with the invoice it was
// copied from, by copies of their own (nil stays nil).
func (inv *Invoice) unshareSlices() {
	if inv.Quotes != nil {
		inv.Quotes = append([]Quote(nil), inv.Quotes...)
	}
	if inv.Transactions != nil {
		inv.Transactions = append([]Transaction(nil), inv.Transactions...)
	}
	if inv.RefundClaims != nil {
		claims := make([]RefundClaim, len(inv.RefundClaims))
		for i, rc := range inv.RefundClaims {
			if rc.TxIDs != nil {
				rc.TxIDs = append([]string(nil), rc.TxIDs...)
			}
			claims[i] = rc
		}
		inv.RefundClaims = claims
	}
}

// Transaction returns the transaction with the given txid, or nil.
func (inv *Invoice) Transaction(txid string) *Transaction {
	for i := range inv.Transactions {
		if inv.Transactions[i].TxID == txid {
			return &inv.Transactions[i]
		}
	}
	return nil
}

// RefundClaim returns the refund claim with the given id, or nil.
func (inv *Invoice) RefundClaim(id uuid.UUID) *RefundClaim {
	for i := range inv.RefundClaims {
		if inv.RefundClaims[i].ID == id {
			return &inv.RefundClaims[i]
		}
	}
	return nil
}

// Quote returns the quote for a payment currency, if the invoice has one.
func (inv *Invoice) Quote(currency string) (Quote, bool) {
	for _, q := range inv.Quotes {
		if q.Currency == currency {
			return q, true
		}
	}
	return Quote{}, false
}

// ReceivedAmount returns the sum of the accounted, not cancelled
// transactions (seen or confirmed) in the payment currency.
func (inv *Invoice) ReceivedAmount() decimal.Decimal {
	return sumAmounts(inv.Transactions, func(t *Transaction) bool {
		return t.Accounted && t.Status != TxCancelled
	})
}

// RemainingAmount returns what is left to pay in the payment currency
// (never negative; zero before the payment amount is fixed).
func (inv *Invoice) RemainingAmount() decimal.Decimal {
	received := inv.ReceivedAmount()
	switch {
	case received.IsZero():
		return inv.SenderAmount
	case received.GreaterThanOrEqual(inv.SenderAmount):
		return decimal.Zero
	}
	return inv.SenderAmount.Sub(received)
}

// sumAmounts adds the amounts of the transactions that match. A single
// match is returned as it is (decimal arithmetic allocates).
func sumAmounts(txs []Transaction, match func(*Transaction) bool) decimal.Decimal {
	var sum decimal.Decimal
	found := false
	for i := range txs {
		if t := &txs[i]; match(t) {
			if !found {
				sum, found = t.Amount, true
			} else {
				sum = sum.Add(t.Amount)
			}
		}
	}
	return sum
}
