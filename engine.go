package invoice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Engine runs the invoice lifecycle on a Store. It holds no invoice state
// of its own: several Engines (in one process or many) may share a Store.
// All methods are safe for concurrent use.
type Engine struct {
	cfg          Config
	currencies   map[string]Currency
	spreadFactor decimal.Decimal // 1 - spread/100
	minReceived  decimal.Decimal // 1 - tolerance/100
	refundKeys   [][]byte        // Config.RefundTokenKeys, copied
	wake         chan struct{}
	// spare is a cleared change record for the next mutate to reuse (one
	// kept: concurrent mutates that find none allocate their own).
	spare atomic.Pointer[change]
}

// New validates cfg, applies its defaults and returns an Engine.
func New(cfg Config) (*Engine, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	keys, err := copyRefundKeys(cfg.RefundTokenKeys)
	if err != nil {
		return nil, err
	}
	cfg.RefundTokenKeys = nil // the engine's copy is refundKeys
	e := &Engine{
		cfg:        cfg,
		refundKeys: keys,
		currencies: make(map[string]Currency, len(cfg.Currencies)),
		wake:       make(chan struct{}, 1),
	}
	for _, cur := range cfg.Currencies {
		e.currencies[cur.Code] = cur
	}
	// Exact: (100 - p) / 100, a shift of the decimal point.
	hundred := decimal.NewFromInt(100)
	e.spreadFactor = hundred.Sub(cfg.RateSpreadPercent).Shift(-2)
	e.minReceived = hundred.Sub(cfg.UnderpaymentTolerancePercent).Shift(-2)
	return e, nil
}

// now is the engine's current time: UTC, microsecond precision (what every
// store keeps exactly), without a monotonic reading.
func (e *Engine) now() time.Time {
	// t.Truncate(time.Microsecond), without its general division: the
	// nanoseconds within the second are never negative.
	t := e.cfg.Clock.Now().UTC().Round(0)
	if r := t.Nanosecond() % 1000; r != 0 {
		t = t.Add(-time.Duration(r))
	}
	return t
}

func (e *Engine) newID() (uuid.UUID, error) {
	id, err := e.cfg.NewID()
	if err != nil {
		return uuid.Nil, fmt.Errorf("invoice: generate id: %w", err)
	}
	return id, nil
}

// maxUpdateAttempts bounds the optimistic-concurrency retries of one
// operation.
const maxUpdateAttempts = 100

// change is one read-modify-write of an invoice in progress: the working
// copy, the time of the change, and the outbox records it produces.
type change struct {
	e      *Engine
	inv    *Invoice
	now    time.Time
	outbox []*Delivery
	// outboxBuf holds the first records of outbox: most changes record
	// one or two, and then need no allocation of their own for the list.
	outboxBuf [2]*Delivery
	changed   bool
	err       error // first error while recording (ID generation)
}

// mutate loads an invoice, applies fn to a working copy and stores the
// result with its outbox records in one atomic store operation, retrying
// from a fresh read when another writer got there first. Overdue deadlines
// are applied before fn, so the outcome does not depend on when the sweep
// last ran. If fn returns an error, nothing fn did is stored; an expiry
// found on the way still is (it happened regardless), and the error is
// returned with a nil invoice.
func (e *Engine) mutate(ctx context.Context, load func(context.Context) (*Invoice, error), fn func(*change) error) (*Invoice, error) {
	// The change record is recycled (see putChange): nothing fn or the
	// store is given may keep ch or ch.outbox's backing array past the
	// call (the outbox records themselves are the store's).
	ch := e.getChange()
	defer e.putChange(ch)
	var opErr error
	for attempt := 0; ; attempt++ {
		inv, err := load(ctx)
		if err != nil {
			return nil, err
		}
		ch.start(e, inv)
		ch.expireIfDue()
		if fn != nil {
			expired := ch.changed
			if opErr = fn(ch); opErr != nil {
				if !expired {
					return nil, opErr
				}
				// Store the expiry alone: start over without fn.
				fn = nil
				attempt--
				continue
			}
		}
		if ch.err != nil {
			return nil, ch.err
		}
		if !ch.changed {
			if opErr != nil {
				return nil, opErr
			}
			return inv, nil
		}
		ch.finish()
		err = e.cfg.Store.UpdateInvoice(ctx, inv, ch.outbox)
		if err != nil && errors.Is(err, ErrConflict) && attempt+1 < maxUpdateAttempts {
			runtime.Gosched()
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("invoice %s: store update: %w", inv.ForeignID, err)
		}
		if len(ch.outbox) > 0 {
			e.signal()
		}
		if e.cfg.Logger.Enabled(ctx, slog.LevelDebug) {
			e.cfg.Logger.DebugContext(ctx, "invoice updated", "foreign_id", inv.ForeignID,
				"status", inv.Status.String(), "version", inv.Version, "outbox", len(ch.outbox))
		}
		if opErr != nil {
			return nil, opErr
		}
		return inv, nil
	}
}

// newChange starts a change of inv, the working copy, now.
func (e *Engine) newChange(inv *Invoice) *change {
	ch := new(change)
	ch.start(e, inv)
	return ch
}

// start sets ch, new or recycled, to a change of inv, the working copy,
// now, with nothing recorded.
func (ch *change) start(e *Engine, inv *Invoice) {
	*ch = change{e: e, inv: inv, now: e.now()}
	ch.outbox = ch.outboxBuf[:0]
}

// getChange returns a change record for mutate, the spare one when there
// is one (taken atomically, so no two calls share it); start it before use
// and give it back with putChange.
func (e *Engine) getChange() *change {
	if ch := e.spare.Swap(nil); ch != nil {
		return ch
	}
	return new(change)
}

// putChange clears ch (so the spare holds no invoice or outbox record) and
// keeps it as the spare for the next mutate.
func (e *Engine) putChange(ch *change) {
	*ch = change{}
	e.spare.Store(ch)
}

// finish stamps a changed working copy before it is stored: the time of
// the change, and no deadline once final.
func (ch *change) finish() {
	ch.inv.UpdatedAt = ch.now
	if ch.inv.Status.IsFinal() {
		ch.inv.Deadline = time.Time{}
	}
}

func (e *Engine) byForeignID(foreignID string) func(context.Context) (*Invoice, error) {
	return func(ctx context.Context) (*Invoice, error) {
		if !storableString(foreignID) {
			// No invoice can have it; no store is asked (PostgreSQL would
			// answer with an encoding error rather than "not found").
			return nil, fmt.Errorf("invoice %q: %w", foreignID, ErrNotFound)
		}
		inv, err := e.cfg.Store.GetInvoiceByForeignID(ctx, foreignID)
		if err != nil {
			return nil, fmt.Errorf("invoice %q: %w", foreignID, err)
		}
		return inv, nil
	}
}

func (e *Engine) byID(id uuid.UUID) func(context.Context) (*Invoice, error) {
	return func(ctx context.Context) (*Invoice, error) {
		inv, err := e.cfg.Store.GetInvoice(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("invoice %s: %w", id, err)
		}
		return inv, nil
	}
}

// signal wakes Run to deliver new outbox records promptly.
func (e *Engine) signal() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// apply moves the invoice through the transition table. A refused event
// returns a *TransitionError and changes nothing. An allowed event sets the
// new status and failure reason and records the merchant callback.
func (ch *change) apply(ev Event) error {
	to, ok := Transition(ch.inv.Status, ev)
	if !ok {
		return &TransitionError{ForeignID: ch.inv.ForeignID, Status: ch.inv.Status, Event: ev}
	}
	ch.inv.Status = to
	if reason := FailureReason(ev); reason != "" {
		ch.inv.Error = reason
	}
	ch.changed = true
	ch.notifyMerchant()
	return nil
}

// touch marks the working copy changed without a status change.
func (ch *change) touch() { ch.changed = true }

// enqueue appends an outbox record in order.
func (ch *change) enqueue(d *Delivery) {
	id, err := ch.e.newID()
	if err != nil {
		ch.err = err
		return
	}
	d.ID = id
	d.InvoiceID = ch.inv.ID
	// Seq orders records by the version that produced them, then by
	// position within the change.
	d.Seq = (ch.inv.Version+1)<<10 | int64(len(ch.outbox))
	d.State = DeliveryPending
	d.CreatedAt = ch.now
	d.NextAttemptAt = ch.now
	ch.outbox = append(ch.outbox, d)
	ch.changed = true
}

// notifyMerchant records a callback with the invoice's current state.
func (ch *change) notifyMerchant() {
	// The record and its callback in one allocation, and the callback's
	// transaction with them when there is one (the usual case).
	var (
		d   *Delivery
		cb  *Callback
		txs []CallbackTransaction
	)
	if n := len(ch.inv.Transactions); n == 1 {
		m := new(struct {
			d  Delivery
			cb Callback
			tx [1]CallbackTransaction
		})
		d, cb, txs = &m.d, &m.cb, m.tx[:0]
	} else {
		m := new(struct {
			d  Delivery
			cb Callback
		})
		d, cb, txs = &m.d, &m.cb, make([]CallbackTransaction, 0, n)
	}
	renderCallback(cb, ch.inv, txs)
	*d = Delivery{Channel: ChannelMerchant, Callback: cb}
	ch.enqueue(d)
}
