package invoice

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
)

// DeliverDue delivers every outbox record that is due now: it claims them
// from the store in batches of Config.DeliveryBatch (with a lease, so
// several engines share the work), hands each to the Notifier or
// CustomerNotifier with up to Config.DeliveryConcurrency at once, and
// records the outcome: acknowledged, rescheduled per Config.RetrySchedule,
// or dead after the last retry. Order per invoice and channel holds because
// the store only hands out the first pending record of each. It returns how
// many were acknowledged.
func (e *Engine) DeliverDue(ctx context.Context) (int, error) {
	delivered := 0
	for {
		batch, err := e.cfg.Store.ClaimDeliveries(ctx, e.now(), e.cfg.DeliveryLease, e.cfg.DeliveryBatch)
		if err != nil {
			return delivered, fmt.Errorf("invoice: claim deliveries: %w", err)
		}
		if len(batch) == 0 {
			return delivered, nil
		}
		n, err := e.deliverBatch(ctx, batch)
		delivered += n
		if err != nil {
			return delivered, err
		}
	}
}

// settleDelay bounds how long a finished attempt waits for others of its
// batch before the outcomes are stored together with
// Store.SettleDeliveries: fast receivers are settled in a few statements
// per batch, and a slow one does not hold back the others' outcomes for
// longer than this.
const settleDelay = 20 * time.Millisecond

// deliverBatch makes one attempt at each claimed delivery, up to
// DeliveryConcurrency at once, and stores the outcomes in batches. It
// returns how many were acknowledged.
func (e *Engine) deliverBatch(ctx context.Context, batch []*Delivery) (int, error) {
	results := make(chan outcome, len(batch))
	sem := make(chan struct{}, e.cfg.DeliveryConcurrency)
	var wg sync.WaitGroup
	wg.Go(func() {
		var inner sync.WaitGroup
		for _, d := range batch {
			sem <- struct{}{}
			inner.Go(func() {
				defer func() { <-sem }()
				results <- e.attempt(ctx, d)
			})
		}
		inner.Wait()
	})
	var (
		delivered int
		errs      []error
		pending   []outcome
		timer     *time.Timer
		flushC    <-chan time.Time
	)
	flush := func() {
		if timer != nil {
			timer.Stop()
			timer, flushC = nil, nil
		}
		n, err := e.settle(ctx, pending)
		delivered += n
		if err != nil {
			errs = append(errs, err)
		}
		pending = pending[:0]
	}
	for received := 0; received < len(batch); {
		select {
		case o := <-results:
			received++
			if o.skip {
				continue
			}
			pending = append(pending, o)
			if timer == nil {
				timer = time.NewTimer(settleDelay)
				flushC = timer.C
			}
		case <-flushC:
			timer, flushC = nil, nil
			flush()
		}
	}
	flush()
	wg.Wait()
	return delivered, errors.Join(errs...)
}

// outcome is the result of one attempt, to be settled.
type outcome struct {
	d    *Delivery
	s    Settlement
	skip bool // shutting down: leave the delivery to its lease
}

// attempt makes one attempt at d and returns what to record.
func (e *Engine) attempt(ctx context.Context, d *Delivery) outcome {
	start := time.Now()
	attempt := Attempt{At: e.now()}
	actx, cancel := context.WithTimeout(ctx, e.cfg.DeliveryTimeout)
	actx = context.WithValue(actx, statusKey{}, &attempt.StatusCode)
	err := e.notify(actx, d)
	cancel()
	attempt.Duration = time.Since(start)
	var se interface{ HTTPStatus() int }
	if errors.As(err, &se) {
		attempt.StatusCode = se.HTTPStatus()
	}
	o := outcome{d: d, s: Settlement{ID: d.ID, LeaseID: d.LeaseID}}
	if err == nil {
		o.s.Attempt, o.s.State = attempt, DeliveryDelivered
		return o
	}
	if ctx.Err() != nil {
		// Shutting down: leave the delivery to its lease; another engine (or
		// this one after restart) retries it. Nothing is lost.
		o.skip = true
		return o
	}
	attempt.Error = err.Error()
	// Attempts so far, this one included; the first retry waits
	// RetrySchedule[0].
	n := len(d.Attempts) + 1
	dead := n > len(e.cfg.RetrySchedule)
	o.s.Attempt, o.s.State, o.s.NextAttemptAt = attempt, DeliveryPending, attempt.At
	if dead {
		o.s.State = DeliveryDead
	} else {
		o.s.NextAttemptAt = attempt.At.Add(e.cfg.RetrySchedule[n-1])
	}
	e.cfg.Logger.WarnContext(ctx, "delivery failed", "delivery", d.ID, "invoice", d.InvoiceID,
		"channel", d.Channel.String(), "attempt", n, "dead", dead, "error", err)
	return o
}

// settle stores the outcomes with one Store.SettleDeliveries and returns
// how many acknowledgements it stored.
func (e *Engine) settle(ctx context.Context, os []outcome) (int, error) {
	if len(os) == 0 {
		return 0, nil
	}
	batch := make([]Settlement, len(os))
	for i, o := range os {
		batch[i] = o.s
	}
	results, err := e.cfg.Store.SettleDeliveries(ctx, batch)
	if err != nil {
		return 0, fmt.Errorf("invoice: record %d deliveries: %w", len(batch), err)
	}
	delivered := 0
	var errs []error
	for i, o := range os {
		if results[i] != nil {
			if err := e.recordErr(o.d, results[i]); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if o.s.State == DeliveryDelivered {
			delivered++
		}
	}
	return delivered, errors.Join(errs...)
}

type statusKey struct{}

// RecordStatus lets a Notifier record the HTTP status code of the attempt
// it is making, success or not, in the delivery log (Attempt.StatusCode).
// ctx is the context the engine passed to Notify; elsewhere RecordStatus
// does nothing. (An error with an HTTPStatus() int method records its code
// as well.)
func RecordStatus(ctx context.Context, code int) {
	if p, ok := ctx.Value(statusKey{}).(*int); ok {
		*p = code
	}
}

func (e *Engine) recordErr(d *Delivery, err error) error {
	if errors.Is(err, ErrLeaseLost) {
		// Another engine took over after our lease ran out; it owns the
		// outcome now. The receiver may see this delivery twice (same ID).
		return nil
	}
	return fmt.Errorf("invoice: record delivery %s: %w", d.ID, err)
}

func (e *Engine) notify(ctx context.Context, d *Delivery) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("invoice: notifier panicked: %v", p)
		}
	}()
	switch d.Channel {
	case ChannelMerchant:
		if d.Callback == nil {
			return fmt.Errorf("invoice: delivery %s has no callback", d.ID)
		}
		return e.cfg.Notifier.Notify(ctx, d)
	case ChannelCustomer:
		if d.Notice == nil {
			return fmt.Errorf("invoice: delivery %s has no notice", d.ID)
		}
		return e.notifyCustomer(ctx, d.Notice)
	case ChannelPayout:
		return e.notifyPayout(ctx, d)
	}
	return fmt.Errorf("invoice: delivery %s has unknown channel %d", d.ID, d.Channel)
}

// Run sweeps overdue invoices and delivers due callbacks until ctx ends,
// then returns nil. Sweeping and delivering run side by side, so a slow
// receiver never delays an expiry. Each wakes every Config.PollInterval;
// delivery also wakes at once when this engine records new callbacks.
// Errors are logged and retried on the next round. Run several engines on
// one store to share the work.
func (e *Engine) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() {
		e.loop(ctx, nil, func() {
			if _, err := e.Sweep(ctx); err != nil && ctx.Err() == nil {
				e.cfg.Logger.ErrorContext(ctx, "sweep failed", "error", err)
			}
		})
	})
	wg.Go(func() {
		e.loop(ctx, e.wake, func() {
			if _, err := e.DeliverDue(ctx); err != nil && ctx.Err() == nil {
				e.cfg.Logger.ErrorContext(ctx, "delivery failed", "error", err)
			}
		})
	})
	wg.Wait()
	return nil
}

// loop runs work at once, then every PollInterval or when wake fires,
// until ctx ends.
func (e *Engine) loop(ctx context.Context, wake <-chan struct{}, work func()) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-wake:
		}
		work()
		timer.Reset(e.cfg.PollInterval)
	}
}

// Deliveries returns the outbox records of one invoice (callbacks and
// customer notices) with every attempt, oldest first.
func (e *Engine) Deliveries(ctx context.Context, foreignID string) ([]*Delivery, error) {
	inv, err := e.Get(ctx, foreignID)
	if err != nil {
		return nil, err
	}
	var all []*Delivery
	q := DeliveryQuery{InvoiceID: inv.ID, Limit: 1000}
	for {
		page, err := e.cfg.Store.ListDeliveries(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("invoice %q: deliveries: %w", foreignID, err)
		}
		all = append(all, page...)
		if len(page) < q.Limit {
			return all, nil
		}
		q.After = page[len(page)-1].ID
	}
}

// Delivery returns one outbox record with its attempts.
func (e *Engine) Delivery(ctx context.Context, id uuid.UUID) (*Delivery, error) {
	d, err := e.cfg.Store.GetDelivery(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("invoice: delivery %s: %w", id, err)
	}
	return d, nil
}

// DeadDeliveries returns up to limit dead deliveries after the cursor
// (uuid.Nil for the first page), in ID order.
func (e *Engine) DeadDeliveries(ctx context.Context, after uuid.UUID, limit int) ([]*Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	ds, err := e.cfg.Store.ListDeliveries(ctx, DeliveryQuery{State: DeliveryDead, After: after, Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("invoice: dead deliveries: %w", err)
	}
	return ds, nil
}

// Redeliver puts a dead (or delivered) delivery back in the outbox, due
// now, keeping its ID (receivers dedupe on it) and its attempt log. Its
// retry schedule is spent, so it gets one attempt: if that fails too it is
// dead again, and Redeliver may be called again.
func (e *Engine) Redeliver(ctx context.Context, id uuid.UUID) error {
	if err := e.cfg.Store.RedeliverDelivery(ctx, id, e.now()); err != nil {
		return fmt.Errorf("invoice: redeliver %s: %w", id, err)
	}
	e.signal()
	return nil
}
