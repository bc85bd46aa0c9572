package invoice

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Store keeps invoices and their outbox of deliveries. It is the only
// state of the engine: several engines sharing one Store share the work.
// Implementations must be safe for concurrent use, must return copies
// (callers may modify what they get), and must pass storetest.Run.
//
// Times given to a Store are UTC with at most microsecond precision and
// must come back exactly; decimals must come back with the same value and
// exponent (the engine gives no decimal a positive exponent: "1500", never
// "15E2"). Methods return errors that match ErrNotFound, ErrDuplicate,
// ErrConflict or ErrLeaseLost with errors.Is where documented, and the
// context's error when ctx is done.
//
// Hostile input gets the same answer from every store: an invoice,
// outbox record or attempt that fails CheckStorable (NUL, invalid UTF-8,
// a decimal out of bounds) is refused with that error (matching
// ErrValidation) and nothing is stored; a look-up by a string key that is
// not ValidStoredKey is ErrNotFound, and a sequence named by one is
// ErrValidation. storetest checks both.
type Store interface {
	// CreateInvoice stores a new invoice with Version 1 and assigns
	// inv.Number (unique, positive, increasing). It sets inv.Version and
	// inv.Number on success. A taken ForeignID yields ErrDuplicate and
	// stores nothing; an ID already stored is a different, plain error. A
	// non-zero Deadline of a non-final invoice makes it due for
	// ClaimDueInvoices, as with UpdateInvoice.
	CreateInvoice(ctx context.Context, inv *Invoice) error

	// GetInvoice returns the invoice with the given ID, or ErrNotFound.
	GetInvoice(ctx context.Context, id uuid.UUID) (*Invoice, error)

	// GetInvoiceByForeignID returns the invoice with the given foreign_id,
	// or ErrNotFound.
	GetInvoiceByForeignID(ctx context.Context, foreignID string) (*Invoice, error)

	// GetInvoiceByCheckoutToken returns the invoice whose CheckoutToken is
	// token, or ErrNotFound. Stores keep CheckoutToken unique.
	GetInvoiceByCheckoutToken(ctx context.Context, token string) (*Invoice, error)

	// GetInvoiceByAddress returns the newest invoice (highest Number) whose
	// Deposit.Address is exactly address, or ErrNotFound; "" finds nothing.
	// Chain watchers find the invoice a payment is for with it.
	GetInvoiceByAddress(ctx context.Context, address string) (*Invoice, error)

	// NextSequence returns the next value of the counter called name: 0 on
	// the first call, then 1, 2, …; never the same value twice for one
	// name, whichever engine asks (a durable store: across restarts too).
	// Address sources take HD derivation indexes from it. A value handed
	// out and then not used is simply skipped.
	NextSequence(ctx context.Context, name string) (int64, error)

	// ListInvoices returns up to q.Limit invoices in ascending ID order,
	// starting after q.After (uuid.Nil: from the start), filtered by status
	// when q.Status is non-zero and by creation time when q.CreatedFrom or
	// q.CreatedBefore is non-zero.
	ListInvoices(ctx context.Context, q ListQuery) ([]*Invoice, error)

	// UpdateInvoice atomically replaces the stored invoice with inv and
	// appends the deliveries to the outbox, if and only if the stored
	// Version still equals inv.Version; it then stores and sets
	// inv.Version+1. Otherwise it changes nothing and returns ErrConflict
	// (ErrNotFound when there is no such invoice). Of several concurrent
	// updates from the same prior version exactly one succeeds.
	//
	// The invoice's sweep key becomes inv.Deadline (none when zero or when
	// the status is final), releasing any sweep lease. ForeignID may change
	// (re-indexed; a clash is ErrDuplicate); Number may not. The outbox
	// records must be new (unique IDs) and belong to inv; the store takes
	// them as they are (State, NextAttemptAt, Seq set by the engine) and
	// takes ownership of them: the caller never uses or modifies a record
	// after passing it, so a store may keep it without copying. Channels
	// are ChannelMerchant (Callback set), ChannelCustomer (Notice set; the
	// engine never gives a notice a Token, and a store need not keep one)
	// and ChannelPayout (Payout set).
	UpdateInvoice(ctx context.Context, inv *Invoice, outbox []*Delivery) error

	// ClaimDueInvoices returns copies of up to limit invoices whose
	// Deadline is at or before now and that no other claim holds, ordered
	// by when they became claimable (the deadline, or the end of an expired
	// hold), then deadline, then Number; and holds them for lease: a second
	// claim before now+lease skips them. The hold ends with the next
	// UpdateInvoice of the invoice, or when the lease runs out. Claiming
	// changes nothing else: each copy is the stored invoice, Version
	// included, so the claimer can update it without reading it again. A
	// limit of zero or less returns nothing.
	ClaimDueInvoices(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*Invoice, error)

	// ClaimDeliveries returns up to limit pending deliveries whose
	// NextAttemptAt is at or before now, each the first pending delivery of
	// its invoice and channel (by Seq), none held by an unexpired lease.
	// Each gets a new LeaseID and LeaseUntil = now+lease. While a delivery
	// is held, later deliveries of the same invoice and channel are not
	// returned either. The batch is in no particular order; a limit of zero
	// or less returns nothing.
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*Delivery, error)

	// AckDelivery marks a held delivery delivered, records the attempt and
	// clears LeaseID and LeaseUntil. ErrLeaseLost if leaseID no longer
	// holds it (it was claimed again after the lease expired, or it was
	// already acknowledged or rescheduled); ErrNotFound if absent. The store
	// keeps no clock: an ack after LeaseUntil that nobody else claimed in
	// between succeeds. Attempt durations are kept to the microsecond.
	AckDelivery(ctx context.Context, id, leaseID uuid.UUID, a Attempt) error

	// RescheduleDelivery records a failed attempt and releases the lease.
	// With dead false the delivery stays pending with NextAttemptAt = next;
	// with dead true it becomes DeliveryDead (and no longer blocks the
	// deliveries after it). Errors as AckDelivery.
	RescheduleDelivery(ctx context.Context, id, leaseID uuid.UUID, a Attempt, next time.Time, dead bool) error

	// GetDelivery returns one delivery with its attempts, or ErrNotFound.
	GetDelivery(ctx context.Context, id uuid.UUID) (*Delivery, error)

	// ListDeliveries returns up to q.Limit deliveries matching q in
	// ascending ID order, after the cursor q.After.
	ListDeliveries(ctx context.Context, q DeliveryQuery) ([]*Delivery, error)

	// ListAwaitingPayout returns copies of up to limit invoices that have
	// at least one refund claim in status RefundRedeemed (redeemed, not yet
	// paid), in ascending ID order after the cursor after (uuid.Nil: from
	// the start). Its cost must depend on the number of such invoices, not
	// on the number of invoices stored (an index, not a scan). A limit of
	// zero or less returns nothing.
	ListAwaitingPayout(ctx context.Context, after uuid.UUID, limit int) ([]*Invoice, error)

	// RedeliverDelivery makes a dead (or delivered) delivery pending again
	// with NextAttemptAt = now, keeping its ID and attempts, in its Seq
	// place in its invoice's queue (a later delivery already held keeps its
	// lease). A pending delivery is left as it is. ErrNotFound if absent.
	RedeliverDelivery(ctx context.Context, id uuid.UUID, now time.Time) error
}

// ListQuery selects invoices for Store.ListInvoices.
type ListQuery struct {
	Status Status    // 0: any status
	After  uuid.UUID // cursor: the last ID of the previous page
	Limit  int       // > 0
	// CreatedFrom, when non-zero, keeps invoices with CreatedAt at or
	// after it.
	CreatedFrom time.Time
	// CreatedBefore, when non-zero, keeps invoices with CreatedAt before it.
	CreatedBefore time.Time
}

// DeliveryQuery selects deliveries for Store.ListDeliveries: those of one
// invoice when InvoiceID is set, in one state when State is set.
type DeliveryQuery struct {
	InvoiceID uuid.UUID     // uuid.Nil: any invoice
	State     DeliveryState // 0: any state
	After     uuid.UUID     // cursor: the last delivery ID of the previous page
	Limit     int           // > 0
}
