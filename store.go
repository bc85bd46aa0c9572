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
	// after passing it, so a store may keep it without copying. The
	// outbox slice itself stays the caller's (the engine reuses it): a
	// store must not keep it after returning. Channels
	// are ChannelMerchant (Callback set), ChannelCustomer (Notice set; the
	// engine never gives a notice a Token, and a store need not keep one)
	// and ChannelPayout (Payout set).
	UpdateInvoice(ctx context.Context, inv *Invoice, outbox []*Delivery) error

	// UpdateInvoices applies a batch of versioned updates, each as
	// UpdateInvoice would apply it alone (the invoice replaced and its
	// outbox appended if and only if the stored Version still equals
	// Invoice.Version; the sweep key reset, any sweep lease released), in
	// a number of statements or steps that does not grow with the batch:
	// the engine's sweep fails a claimed batch of overdue invoices with
	// it. The engine decides every outcome; the store only applies them.
	//
	// It returns one error per update, in batch order: nil when the update
	// applied (its Invoice.Version is then the stored one, Version+1), an
	// error matching ErrConflict when the stored version differs, or
	// ErrNotFound when there is no such invoice; an update whose ForeignID
	// or CheckoutToken differs from the stored one (UpdateInvoice alone may
	// change them; a batch may not) gets an error of its own. Such
	// per-update refusals change nothing of that update and do not hold
	// back the others. The second result is an error about the whole batch
	// (an invoice twice in it, a nil invoice, an invalid outbox record, an
	// invoice or outbox record that fails CheckStorable, the context, the
	// database): then nothing of the batch was applied.
	// An empty batch does nothing.
	UpdateInvoices(ctx context.Context, batch []InvoiceUpdate) ([]error, error)

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

	// SettleDeliveries records a batch of attempts on held deliveries,
	// each as AckDelivery (State DeliveryDelivered) or RescheduleDelivery
	// (State DeliveryPending with NextAttemptAt, or DeliveryDead) would
	// record it alone, with the same lease checks, in a number of
	// statements or steps that does not grow with the batch. Per-invoice
	// order is kept as with single settlements: a delivery stays held,
	// blocking the ones after it, until its settlement is stored.
	//
	// It returns one error per settlement, in batch order: nil, or one
	// matching ErrLeaseLost or ErrNotFound as AckDelivery would return;
	// those change nothing of that settlement and do not hold back the
	// others. The second result is an error about the whole batch (a
	// delivery twice in it, an unknown State, an Attempt that fails
	// CheckStorable, the context, the database): then nothing of the batch
	// was applied. An empty batch does nothing.
	SettleDeliveries(ctx context.Context, batch []Settlement) ([]error, error)

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

// InvoiceUpdate is one update of a Store.UpdateInvoices batch: the
// invoice as it is to be stored, with the Version it was read at, and the
// outbox records of the change (owned by the store afterwards, as with
// UpdateInvoice). An invoice appears at most once in a batch.
type InvoiceUpdate struct {
	Invoice *Invoice
	Outbox  []*Delivery
}

// Settlement is the outcome of one attempt on a held delivery, for
// Store.SettleDeliveries. A delivery appears at most once in a batch.
type Settlement struct {
	ID      uuid.UUID // the delivery
	LeaseID uuid.UUID // the lease its claim returned
	Attempt Attempt   // the attempt to append
	// State is DeliveryDelivered (acknowledged), DeliveryPending (retry at
	// NextAttemptAt) or DeliveryDead (no retry left).
	State DeliveryState
	// NextAttemptAt is when to retry, with State DeliveryPending.
	NextAttemptAt time.Time
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
