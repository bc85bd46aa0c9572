package invoice

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// RefundNotice is what the customer is told when a refund claim is created:
// the claim's token goes into the link the customer redeems it with.
//
// The outbox keeps the notice without its token (Token is empty in every
// stored record and in what Engine.Deliveries returns): the engine derives
// the token from Config.RefundTokenKeys each time it hands the notice to
// the CustomerNotifier, so the notice is still delivered durably, in order
// and retried, while nothing stored can redeem the claim.
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
	// Token is the secret the customer redeems the claim with
	// (Engine.RedeemRefundClaim, Engine.LookupRefundClaim). Set only on
	// the notice given to CustomerNotifier.NotifyCustomer: put it in the
	// link and nowhere else (not in logs, not in errors; the engine cuts
	// it out of a returned error's text, but only where it appears
	// verbatim).
	Token string `json:"token,omitempty"`
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
// production). Same contract as Notifier. The notice's Token is the
// customer's secret: send it in the link and keep it out of logs, stored
// copies and returned errors.
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
	ChannelPayout                      // a RefundPayout for the PayoutNotifier
)

// String returns "merchant", "customer" or "payout".
func (ch Channel) String() string {
	switch ch {
	case ChannelMerchant:
		return "merchant"
	case ChannelCustomer:
		return "customer"
	case ChannelPayout:
		return "payout"
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
	StatusCode int           `json:"status_code,omitempty"` // HTTP status, when the notifier reported one (RecordStatus)
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
	Payout   *RefundPayout `json:"payout,omitempty"`   // ChannelPayout

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
	if d.Payout != nil {
		p := *d.Payout
		cp.Payout = &p
	}
	if d.Attempts != nil {
		cp.Attempts = append([]Attempt(nil), d.Attempts...)
	}
	return &cp
}
