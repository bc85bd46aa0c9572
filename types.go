package invoice

import (
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Type is one of the three invoice types. The create request decides it:
// see TypeOf.
type Type uint8

// The three invoice types of the specification.
const (
	// TypeNoTimer: timer=false, no sender_currency. The rate is fixed when
	// the customer confirms the payment currency; a payment window starts then.
	TypeNoTimer Type = iota + 1
	// TypeTimer: timer=true, no sender_currency. A quote table over the
	// accepted currencies is fixed at creation; 15-minute window from creation.
	TypeTimer
	// TypeTimerCurrency: timer=true with sender_currency. The rate is fixed at
	// creation; 15-minute window from creation.
	TypeTimerCurrency
)

var typeNames = [...]string{
	TypeNoTimer:       "no_timer",
	TypeTimer:         "timer",
	TypeTimerCurrency: "timer_currency",
}

// TypeOf returns the invoice type a create request with these fields yields.
// timer=false with a sender currency is not a valid combination.
func TypeOf(timer bool, senderCurrency string) (Type, bool) {
	switch {
	case !timer && senderCurrency == "":
		return TypeNoTimer, true
	case timer && senderCurrency == "":
		return TypeTimer, true
	case timer:
		return TypeTimerCurrency, true
	}
	return 0, false
}

// String returns "no_timer", "timer" or "timer_currency".
func (t Type) String() string {
	if t >= TypeNoTimer && t <= TypeTimerCurrency {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// MarshalText implements encoding.TextMarshaler.
func (t Type) MarshalText() ([]byte, error) {
	if t < TypeNoTimer || t > TypeTimerCurrency {
		return nil, fmt.Errorf("invoice: cannot marshal invalid type %d: %w", uint8(t), ErrUnknownValue)
	}
	return []byte(typeNames[t]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; unknown names are refused.
func (t *Type) UnmarshalText(b []byte) error {
	for v := TypeNoTimer; v <= TypeTimerCurrency; v++ {
		if typeNames[v] == string(b) {
			*t = v
			return nil
		}
	}
	return fmt.Errorf("invoice: unknown invoice type %q: %w", b, ErrUnknownValue)
}

// PaymentMode says how the amount may be paid. The zero value is
// ModeFillOrKill.
type PaymentMode uint8

// The two payment modes.
const (
	// ModeFillOrKill: the amount is paid by what arrives; a short total fails
	// the invoice. The default.
	ModeFillOrKill PaymentMode = iota
	// ModeGoodUntilExpired: installments are accepted until the total covers
	// the amount or the timer runs out; each part produces a callback.
	ModeGoodUntilExpired
)

// String returns "fill_or_kill" or "good_until_expired".
func (m PaymentMode) String() string {
	switch m {
	case ModeFillOrKill:
		return "fill_or_kill"
	case ModeGoodUntilExpired:
		return "good_until_expired"
	}
	return fmt.Sprintf("PaymentMode(%d)", uint8(m))
}

// ParsePaymentMode parses "fill_or_kill" or "good_until_expired"; "" is
// fill_or_kill.
func ParsePaymentMode(s string) (PaymentMode, error) {
	switch s {
	case "fill_or_kill", "":
		return ModeFillOrKill, nil
	case "good_until_expired":
		return ModeGoodUntilExpired, nil
	}
	return 0, fmt.Errorf("invoice: unknown payment mode %q: %w", s, ErrUnknownValue)
}

// MarshalText implements encoding.TextMarshaler.
func (m PaymentMode) MarshalText() ([]byte, error) {
	if m > ModeGoodUntilExpired {
		return nil, fmt.Errorf("invoice: cannot marshal invalid payment mode %d: %w", uint8(m), ErrUnknownValue)
	}
	return []byte(m.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; unknown names are refused.
func (m *PaymentMode) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		return fmt.Errorf("invoice: empty payment mode: %w", ErrUnknownValue)
	}
	v, err := ParsePaymentMode(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// TxStatus is the status of one on-chain transaction.
type TxStatus uint8

// Transaction statuses.
const (
	// TxNotConfirmed: seen in the mempool (or mined with too few confirmations).
	TxNotConfirmed TxStatus = iota + 1
	// TxConfirmed: final.
	TxConfirmed
	// TxCancelled: dropped, double-spent or replaced; final.
	TxCancelled
)

var txStatusNames = [...]string{
	TxNotConfirmed: "not_confirmed",
	TxConfirmed:    "confirmed",
	TxCancelled:    "cancelled",
}

// String returns "not_confirmed", "confirmed" or "cancelled".
func (s TxStatus) String() string {
	if s >= TxNotConfirmed && s <= TxCancelled {
		return txStatusNames[s]
	}
	return fmt.Sprintf("TxStatus(%d)", uint8(s))
}

// IsFinal reports whether the transaction can no longer change.
func (s TxStatus) IsFinal() bool { return s == TxConfirmed || s == TxCancelled }

// MarshalText implements encoding.TextMarshaler.
func (s TxStatus) MarshalText() ([]byte, error) {
	if s < TxNotConfirmed || s > TxCancelled {
		return nil, fmt.Errorf("invoice: cannot marshal invalid transaction status %d: %w", uint8(s), ErrUnknownValue)
	}
	return []byte(txStatusNames[s]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; unknown names are refused.
func (s *TxStatus) UnmarshalText(b []byte) error {
	for v := TxNotConfirmed; v <= TxCancelled; v++ {
		if txStatusNames[v] == string(b) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("invoice: unknown transaction status %q: %w", b, ErrUnknownValue)
}

// Address is a deposit address with its optional tag (memo, destination tag).
type Address struct {
	Address string `json:"address"`
	Tag     string `json:"tag,omitempty"`
	// Path says where a derived address came from, e.g. "m/84'/0'/0'/0/7"
	// for an address of an HD wallet (BIP-32); "" when the source does not
	// say. Stores keep it; callbacks never carry it.
	Path string `json:"path,omitempty"`
}

// Quote is the fixed price of an invoice in one payment currency.
type Quote struct {
	Currency string          `json:"currency"` // payment currency, e.g. "BTC"
	Rate     decimal.Decimal `json:"rate"`     // invoice-currency units per payment unit, spread applied
	Amount   decimal.Decimal `json:"amount"`   // what the customer pays, rounded up
}

// Transaction is one on-chain payment to the invoice's deposit address.
type Transaction struct {
	// Number is the transaction's numeric id in callbacks:
	// invoice Number × 1,000,000 + position (from 1).
	Number        int64           `json:"id"`
	TxID          string          `json:"txid"`
	Currency      string          `json:"currency"`
	Amount        decimal.Decimal `json:"amount"`
	Confirmations int64           `json:"confirmations"`
	Status        TxStatus        `json:"status"`
	// Accounted is true when the transaction counts toward the invoice
	// amount: in the payment currency and reported while the invoice could
	// still be paid. Late and wrong-currency payments are not accounted;
	// they are recorded and refunded once confirmed.
	Accounted bool `json:"accounted"`
	// Flagged is true once the host flagged it for compliance.
	Flagged bool `json:"flagged,omitempty"`
	// Settled is true once the transaction's money has been accounted for
	// for good: paid to the merchant or covered by a refund claim.
	Settled   bool      `json:"settled,omitempty"`
	SeenAt    time.Time `json:"seen_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// RefundClaimStatus is the state of a refund claim.
type RefundClaimStatus uint8

// Refund claim states: open → redeemed (customer gave an address) → paid.
const (
	RefundOpen RefundClaimStatus = iota + 1
	RefundRedeemed
	RefundPaid
)

var refundStatusNames = [...]string{RefundOpen: "open", RefundRedeemed: "redeemed", RefundPaid: "paid"}

// String returns "open", "redeemed" or "paid".
func (s RefundClaimStatus) String() string {
	if s >= RefundOpen && s <= RefundPaid {
		return refundStatusNames[s]
	}
	return fmt.Sprintf("RefundClaimStatus(%d)", uint8(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s RefundClaimStatus) MarshalText() ([]byte, error) {
	if s < RefundOpen || s > RefundPaid {
		return nil, fmt.Errorf("invoice: cannot marshal invalid refund status %d: %w", uint8(s), ErrUnknownValue)
	}
	return []byte(refundStatusNames[s]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; unknown names are refused.
func (s *RefundClaimStatus) UnmarshalText(b []byte) error {
	for v := RefundOpen; v <= RefundPaid; v++ {
		if refundStatusNames[v] == string(b) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("invoice: unknown refund claim status %q: %w", b, ErrUnknownValue)
}

// RefundClaim is money the customer may claim back. Nothing of its token is
// stored: the engine derives the token from the claim's location and
// Config.RefundTokenKeys when it hands the customer notice over.
type RefundClaim struct {
	ID       uuid.UUID       `json:"id"`
	Amount   decimal.Decimal `json:"amount"`
	Currency string          `json:"currency"` // the payment currency actually received
	Reason   string          `json:"reason"`
	TxIDs    []string        `json:"txids,omitempty"` // transactions it refunds
	// TokenHash is set only on claims made before tokens were derived:
	// the hex SHA-256 of the random token sent then, which still redeems
	// the claim. Empty on every claim made now.
	TokenHash string            `json:"token_hash,omitempty"`
	Status    RefundClaimStatus `json:"status"`
	// Destination is the address the customer gave when redeeming.
	Destination string    `json:"destination,omitempty"`
	PayoutRef   string    `json:"payout_ref,omitempty"` // the merchant's payout reference
	CreatedAt   time.Time `json:"created_at"`
	RedeemedAt  time.Time `json:"redeemed_at,omitzero"`
	PaidAt      time.Time `json:"paid_at,omitzero"`
}
