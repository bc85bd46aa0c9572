package invoice

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Callback is the value a merchant receives for every status change and
// every installment part. Its JSON encoding is the CoinsPaid invoice
// callback format of the specification (§7): numeric ids, decimal strings
// with 8 fraction digits, confirmations as a string, unix-second times and
// "error" as "" when there is none.
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
	FixedAt          int64                 `json:"fixed_at"`   // unix seconds, 0 when not fixed
	ExpiresAt        int64                 `json:"expires_at"` // unix seconds, 0 when no window
}

// CallbackAddress is the callback's "crypto_address" object.
type CallbackAddress struct {
	ID        int64  `json:"id"`
	Currency  string `json:"currency"`
	ConvertTo string `json:"convert_to,omitempty"`
	Address   string `json:"address"`
	Tag       string `json:"tag"`
}

// CallbackSent is the callback's "currency_sent" object: what the customer
// pays.
type CallbackSent struct {
	Currency        string `json:"currency"`
	Amount          Amount `json:"amount"`
	RemainingAmount Amount `json:"remaining_amount"`
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

// UnmarshalJSON implements json.Unmarshaler.
func (a *Amount) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return fmt.Errorf("invoice: amount is null: %w", ErrValidation)
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

// RefundNotice is what the customer is told when a refund claim is created:
// the claim's token goes into the link the customer redeems it with.
type RefundNotice struct {
	ClaimID   uuid.UUID `json:"claim_id"`
	InvoiceID uuid.UUID `json:"invoice_id"`
	ForeignID string    `json:"foreign_id"`
	// Email is the customer's address; it may be empty when the customer
	// never gave one (a pre-selected-currency invoice paid before its
	// e-mail was confirmed): the host must then reach the customer another
	// way. The claim itself is kept either way.
	Email    string          `json:"email"`
	Amount   decimal.Decimal `json:"amount"`
	Currency string          `json:"currency"`
	Reason   string          `json:"reason"`
	Token    string          `json:"token"` // secret: redeem with Engine.RedeemRefundClaim
}

// Notifier delivers callbacks to the merchant (package webhook has one that
// POSTs them signed). A nil error means the merchant acknowledged the
// callback; any error schedules a retry. Notify must respect ctx.
type Notifier interface {
	Notify(ctx context.Context, d *Delivery) error
}

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func(ctx context.Context, d *Delivery) error

// Notify calls f.
func (f NotifierFunc) Notify(ctx context.Context, d *Delivery) error { return f(ctx, d) }

// CustomerNotifier tells customers about refund claims (an e-mail in
// production). Same contract as Notifier.
type CustomerNotifier interface {
	NotifyCustomer(ctx context.Context, n *RefundNotice) error
}

// CustomerNotifierFunc adapts a function to CustomerNotifier.
type CustomerNotifierFunc func(ctx context.Context, n *RefundNotice) error

// NotifyCustomer calls f.
func (f CustomerNotifierFunc) NotifyCustomer(ctx context.Context, n *RefundNotice) error {
	return f(ctx, n)
}

// Channel says who a delivery is for.
type Channel uint8

// Delivery channels. Order is kept per invoice and channel.
const (
	ChannelMerchant Channel = iota + 1 // a Callback for the Notifier
	ChannelCustomer                    // a RefundNotice for the CustomerNotifier
)

// String returns "merchant" or "customer".
func (ch Channel) String() string {
	switch ch {
	case ChannelMerchant:
		return "merchant"
	case ChannelCustomer:
		return "customer"
	}
	return fmt.Sprintf("Channel(%d)", uint8(ch))
}

// DeliveryState is the state of an outbox record.
type DeliveryState uint8

// Delivery states.
const (
	// DeliveryPending: not yet acknowledged; attempted when NextAttemptAt
	// has come and no other engine holds its lease.
	DeliveryPending DeliveryState = iota + 1
	// DeliveryDelivered: acknowledged by the receiver.
	DeliveryDelivered
	// DeliveryDead: every scheduled attempt failed. Kept, never deleted;
	// Engine.Redeliver puts it back to pending.
	DeliveryDead
)

// String returns "pending", "delivered" or "dead".
func (s DeliveryState) String() string {
	switch s {
	case DeliveryPending:
		return "pending"
	case DeliveryDelivered:
		return "delivered"
	case DeliveryDead:
		return "dead"
	}
	return fmt.Sprintf("DeliveryState(%d)", uint8(s))
}

// Attempt records one delivery attempt.
type Attempt struct {
	At         time.Time     `json:"at"`
	Duration   time.Duration `json:"duration"`
	StatusCode int           `json:"status_code,omitempty"` // HTTP status, when there was one
	Error      string        `json:"error,omitempty"`       // "" on success
}

// Delivery is one outbox record: a callback (or customer notice) recorded in
// the same atomic store operation as the change that caused it, then
// delivered at least once, in Seq order per invoice and channel.
type Delivery struct {
	// ID is unique and stable across retries: receivers dedupe on it.
	ID        uuid.UUID `json:"id"`
	InvoiceID uuid.UUID `json:"invoice_id"`
	Channel   Channel   `json:"channel"`
	// Seq orders the deliveries of one invoice and channel (increasing).
	Seq      int64         `json:"seq"`
	Callback *Callback     `json:"callback,omitempty"` // ChannelMerchant
	Notice   *RefundNotice `json:"notice,omitempty"`   // ChannelCustomer

	State         DeliveryState `json:"state"`
	CreatedAt     time.Time     `json:"created_at"`
	NextAttemptAt time.Time     `json:"next_attempt_at"`
	// Attempts lists every attempt so far, oldest first.
	Attempts []Attempt `json:"attempts,omitempty"`

	// LeaseID and LeaseUntil are set by Store.ClaimDeliveries: the claimer
	// must present LeaseID to acknowledge or reschedule.
	LeaseID    uuid.UUID `json:"lease_id,omitzero"`
	LeaseUntil time.Time `json:"lease_until,omitzero"`
}

// Clone returns a deep copy of d.
func (d *Delivery) Clone() *Delivery {
	if d == nil {
		return nil
	}
	cp := *d
	if d.Callback != nil {
		cb := *d.Callback
		if cb.Transactions != nil {
			cb.Transactions = append(make([]CallbackTransaction, 0, len(cb.Transactions)), cb.Transactions...)
		}
		if cb.Fees != nil {
			cb.Fees = append(make([]CallbackFee, 0, len(cb.Fees)), cb.Fees...)
		}
		cp.Callback = &cb
	}
	if d.Notice != nil {
		n := *d.Notice
		cp.Notice = &n
	}
	if d.Attempts != nil {
		cp.Attempts = append([]Attempt(nil), d.Attempts...)
	}
	return &cp
}

// callbackFor renders the merchant callback for the invoice's current state.
func (e *Engine) callbackFor(inv *Invoice) *Callback {
	cb := &Callback{
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
		Transactions:     make([]CallbackTransaction, 0, len(inv.Transactions)),
		Fees:             []CallbackFee{},
		Error:            inv.Error,
		Status:           inv.Status,
		FixedAt:          unixOrZero(inv.FixedAt),
		ExpiresAt:        unixOrZero(inv.ExpiresAt),
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
	return cb
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
