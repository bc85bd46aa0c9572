package invoice

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// Callback is the value a merchant receives for every status change and
// every installment part. Its JSON encoding is the CoinsPaid invoice
// callback format of the specification (§7): numeric ids, decimal strings
// with 8 fraction digits, confirmations as a string, unix-second times and
// "error" as "" when there is none. Values that do not exist yet are
// null, as CoinsPaid sends them: the tag of an address without one; the
// payment currency, address and amounts of an invoice whose payment
// currency is not fixed ("currency_sent" then has three nulls); fixed_at
// and expires_at of an invoice with no rate or window. expires_at is the
// invoice's current deadline: after a currency whose mempool is visible
// enters processing it is the end of the processing window.
//
// The bytes sent are those of Body; callback.schema.json (in this
// package's directory) is the JSON Schema of the payload.
type Callback struct {
	ID               int64                 `json:"id"` // the invoice's Number
	ForeignID        string                `json:"foreign_id"`
	EndUserReference string                `json:"end_user_reference,omitempty"`
	Type             string                `json:"type"` // always "invoice"
	CryptoAddress    CallbackAddress       `json:"crypto_address"`
	CurrencySent     CallbackSent          `json:"currency_sent"`
	CurrencyReceived CallbackReceived      `json:"currency_received"`
	Transactions     []CallbackTransaction `json:"transactions"`
	Fees             []CallbackFee         `json:"fees"`
	Error            string                `json:"error"`
	Status           Status                `json:"status"`
	FixedAt          int64                 `json:"fixed_at"`   // unix seconds; 0 (null on the wire) when not fixed
	ExpiresAt        int64                 `json:"expires_at"` // unix seconds; 0 (null on the wire) when no deadline
}

// MarshalJSON encodes the callback with null for a zero fixed_at or
// expires_at.
func (cb Callback) MarshalJSON() ([]byte, error) {
	type plain Callback
	return json.Marshal(struct {
		plain
		FixedAt   *int64 `json:"fixed_at"`
		ExpiresAt *int64 `json:"expires_at"`
	}{plain(cb), nonZero(cb.FixedAt), nonZero(cb.ExpiresAt)})
}

func nonZero(n int64) *int64 {
	if n == 0 {
		return nil
	}
	return &n
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// CallbackAddress is the callback's "crypto_address" object.
type CallbackAddress struct {
	ID        int64  `json:"id"`
	Currency  string `json:"currency"`
	ConvertTo string `json:"convert_to,omitempty"`
	Address   string `json:"address"`
	Tag       string `json:"tag"`
}

// MarshalJSON encodes the address with null for an empty currency,
// address or tag.
func (a CallbackAddress) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID        int64   `json:"id"`
		Currency  *string `json:"currency"`
		ConvertTo string  `json:"convert_to,omitempty"`
		Address   *string `json:"address"`
		Tag       *string `json:"tag"`
	}{a.ID, nonEmpty(a.Currency), a.ConvertTo, nonEmpty(a.Address), nonEmpty(a.Tag)})
}

// CallbackSent is the callback's "currency_sent" object: what the customer
// pays. Before the payment currency is fixed (Currency "") all three
// fields are null on the wire.
type CallbackSent struct {
	Currency        string `json:"currency"`
	Amount          Amount `json:"amount"`
	RemainingAmount Amount `json:"remaining_amount"`
}

// MarshalJSON encodes the object, all null when Currency is empty.
func (c CallbackSent) MarshalJSON() ([]byte, error) {
	if c.Currency == "" {
		return []byte(`{"currency":null,"amount":null,"remaining_amount":null}`), nil
	}
	type plain CallbackSent
	return json.Marshal(plain(c))
}

// CallbackReceived is the callback's "currency_received" object: what the
// merchant receives.
type CallbackReceived struct {
	Currency string `json:"currency"`
	Amount   Amount `json:"amount"`
}

// CallbackTransaction is one entry of the callback's "transactions".
type CallbackTransaction struct {
	ID              int64  `json:"id"`
	Currency        string `json:"currency"`
	TransactionType string `json:"transaction_type"` // "blockchain"
	Type            string `json:"type"`             // "deposit"
	Address         string `json:"address"`
	Tag             string `json:"tag"`
	Amount          Amount `json:"amount"`
	TxID            string `json:"txid"`
	Confirmations   int64  `json:"confirmations,string"`
	// Status is this library's addition: the transaction's own status.
	Status TxStatus `json:"status,omitempty"`
}

// MarshalJSON encodes the transaction with null for an empty tag.
func (t CallbackTransaction) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID              int64    `json:"id"`
		Currency        string   `json:"currency"`
		TransactionType string   `json:"transaction_type"`
		Type            string   `json:"type"`
		Address         string   `json:"address"`
		Tag             *string  `json:"tag"`
		Amount          Amount   `json:"amount"`
		TxID            string   `json:"txid"`
		Confirmations   int64    `json:"confirmations,string"`
		Status          TxStatus `json:"status,omitempty"`
	}{t.ID, t.Currency, t.TransactionType, t.Type, t.Address, nonEmpty(t.Tag), t.Amount, t.TxID, t.Confirmations, t.Status})
}

// CallbackFee is one entry of the callback's "fees". The engine charges no
// fees itself, so the list is empty unless a host adds some.
type CallbackFee struct {
	Type     string `json:"type"`
	Currency string `json:"currency"`
	Amount   Amount `json:"amount"`
}

// Amount is a decimal that encodes as a JSON string with at least 8
// fraction digits ("0.00100000"); more digits are kept when the value has
// them, so no amount is ever rounded on the wire. It decodes from a JSON
// string or number.
type Amount struct{ decimal.Decimal }

// WireFractionDigits is the minimum number of fraction digits of amounts in
// callbacks.
const WireFractionDigits = 8

// MarshalJSON implements json.Marshaler.
func (a Amount) MarshalJSON() ([]byte, error) {
	digits := int32(WireFractionDigits)
	if e := -a.Exponent(); e > digits {
		digits = e
	}
	return json.Marshal(a.StringFixed(digits))
}

// UnmarshalJSON implements json.Unmarshaler. null (an amount that does
// not exist yet) decodes as zero.
func (a *Amount) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		a.Decimal = decimal.Decimal{}
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(s)
	}
	d, err := decimal.NewFromString(string(b))
	if err != nil {
		return fmt.Errorf("invoice: bad amount %q: %w", b, err)
	}
	a.Decimal = d
	return nil
}

// renderCallback sets *cb to the merchant callback for the invoice's
// current state. Its transactions are appended to txs, an empty non-nil
// slice (with room for all of them, none is allocated).
func renderCallback(cb *Callback, inv *Invoice, txs []CallbackTransaction) {
	*cb = Callback{
		ID:               inv.Number,
		ForeignID:        inv.ForeignID,
		EndUserReference: inv.EndUserReference,
		Type:             "invoice",
		CryptoAddress: CallbackAddress{
			ID:       inv.Number,
			Currency: inv.SenderCurrency,
			Address:  inv.Deposit.Address,
			Tag:      inv.Deposit.Tag,
		},
		CurrencySent: CallbackSent{
			Currency:        inv.SenderCurrency,
			Amount:          Amount{inv.SenderAmount},
			RemainingAmount: Amount{inv.RemainingAmount()},
		},
		CurrencyReceived: CallbackReceived{Currency: inv.Currency, Amount: Amount{inv.Amount}},
		Transactions:     txs[:0],
		Fees:             []CallbackFee{},
		Error:            inv.Error,
		Status:           inv.Status,
		FixedAt:          unixOrZero(inv.FixedAt),
		ExpiresAt:        unixOrZero(currentDeadline(inv)),
	}
	for _, t := range inv.Transactions {
		cb.Transactions = append(cb.Transactions, CallbackTransaction{
			ID:              t.Number,
			Currency:        t.Currency,
			TransactionType: "blockchain",
			Type:            "deposit",
			Address:         inv.Deposit.Address,
			Tag:             inv.Deposit.Tag,
			Amount:          Amount{t.Amount},
			TxID:            t.TxID,
			Confirmations:   t.Confirmations,
			Status:          t.Status,
		})
	}
}

// currentDeadline is when the invoice's window ends as of now: its
// Deadline (the processing window once a mempool-visible currency is
// processing), else the end of the payment window.
func currentDeadline(inv *Invoice) time.Time {
	if !inv.Deadline.IsZero() {
		return inv.Deadline
	}
	return inv.ExpiresAt
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// UnmarshalJSON decodes a callback transaction, accepting "confirmations"
// as the wire format's string or as a bare number.
func (t *CallbackTransaction) UnmarshalJSON(b []byte) error {
	type plain CallbackTransaction
	var raw struct {
		plain
		Confirmations json.RawMessage `json:"confirmations"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*t = CallbackTransaction(raw.plain)
	c := raw.Confirmations
	if len(c) == 0 || string(c) == "null" {
		return nil
	}
	if c[0] == '"' {
		var s string
		if err := json.Unmarshal(c, &s); err != nil {
			return err
		}
		c = []byte(s)
	}
	n, err := strconv.ParseInt(string(c), 10, 64)
	if err != nil {
		return fmt.Errorf("invoice: bad confirmations %s: %w", raw.Confirmations, err)
	}
	t.Confirmations = n
	return nil
}
