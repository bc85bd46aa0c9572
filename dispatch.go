package invoice

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	"github.com/google/uuid"
)

// DeliverDue delivers every outbox record that is due now: it claims them
// from the store in batches of Config.DeliveryBatch (with a lease, so
// several engines share the work), hands each to the Notifier or
// CustomerNotifier with up to Config.DeliveryConcurrency at once, and
// records the outcome: acknowledged, rescheduled per Config.RetrySchedule
// (with jitter, and no sooner than a 429 or 503 answer's Retry-After
// asks, up to Config.MaxRetryAfter), or dead after the last retry. Order
// per invoice and channel holds because the store only hands out the
// first pending record of each. It returns how many were acknowledged.
//
// A panic in the store or a notifier is recovered and returned as an
// error matching ErrPanic; the delivery it hit is retried once its lease
// runs out. When ctx ends, attempts in flight are cancelled and left to
// their lease (Run stops more gently).
func (e *Engine) DeliverDue(ctx context.Context) (int, error) {
	return e.deliverDue(ctx, ctx)
}

// deliverDue claims with claimCtx and attempts and records with workCtx:
// Run's graceful stop ends claimCtx first, and workCtx after the grace.
func (e *Engine) deliverDue(claimCtx, workCtx context.Context) (int, error) {
	delivered := 0
	for claimCtx.Err() == nil {
		var batch []*Delivery
		err := e.guard(claimCtx, "claim deliveries", func() error {
			var err error
			batch, err = e.cfg.Store.ClaimDeliveries(claimCtx, e.now(), e.cfg.DeliveryLease, e.cfg.DeliveryBatch)
			return err
		})
		if err != nil {
			return delivered, fmt.Errorf("invoice: claim deliveries: %w", err)
		}
		if len(batch) == 0 {
			return delivered, nil
		}
		n, err := e.deliverBatch(workCtx, batch)
		delivered += n
		if err != nil {
			return delivered, err
		}
	}
	return delivered, nil
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
				var o outcome
				if err := e.guard(ctx, "deliver", func() error {
					o = e.attempt(ctx, d)
					return nil
				}); err != nil {
					// Left to its lease, to be retried when it runs out.
					o = outcome{d: d, skip: true, err: err}
				}
				results <- o
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
			if o.err != nil {
				errs = append(errs, o.err)
			}
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
	skip bool  // stopped hard, or a panic: leave the delivery to its lease
	err  error // a recovered panic (matching ErrPanic), with skip
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
		// Stopped hard: leave the delivery to its lease; another engine (or
		// this one after restart) retries it. Nothing is lost.
		o.skip = true
		return o
	}
	// What is logged and stored: URLs redacted (a callback URL's token
	// stays secret), valid text that every store keeps, bounded.
	attempt.Error = attemptError(err)
	// Attempts so far, this one included; the first retry waits
	// RetrySchedule[0].
	n := len(d.Attempts) + 1
	dead := n > len(e.cfg.RetrySchedule)
	o.s.Attempt, o.s.State, o.s.NextAttemptAt = attempt, DeliveryPending, attempt.At
	if dead {
		o.s.State = DeliveryDead
	} else {
		o.s.NextAttemptAt = attempt.At.Add(e.retryWait(e.cfg.RetrySchedule[n-1], err, attempt.StatusCode))
	}
	e.cfg.Logger.WarnContext(ctx, "delivery failed", "delivery", d.ID, "invoice", d.InvoiceID,
		"channel", d.Channel.String(), "attempt", n, "dead", dead, "status", attempt.StatusCode,
		"next_attempt_at", o.s.NextAttemptAt, "error", attempt.Error)
	return o
}

// settle stores the outcomes with one Store.SettleDeliveries and returns
// how many acknowledgements it stored. A batch the store refused as a
// whole with a panic (recovered, matching ErrPanic) or ErrValidation is
// settled again one outcome at a time, so that one bad outcome holds back
// no other; the one that fails again is left to its lease, as a panic in
// AckDelivery would leave it.
func (e *Engine) settle(ctx context.Context, os []outcome) (int, error) {
	n, batchErr, err := e.settleBatch(ctx, os)
	if batchErr == nil || len(os) < 2 || !(errors.Is(batchErr, ErrPanic) || errors.Is(batchErr, ErrValidation)) {
		return n, errors.Join(batchErr, err)
	}
	errs := []error{batchErr}
	for i := range os {
		k, berr, err := e.settleBatch(ctx, os[i:i+1])
		n += k
		errs = append(errs, berr, err)
	}
	return n, errors.Join(errs...)
}

// settleBatch stores the outcomes with one Store.SettleDeliveries. It
// returns how many acknowledgements it stored, the error about the whole
// batch (nothing stored), and the per-settlement errors (lease lost
// excepted: another engine owns the outcome).
func (e *Engine) settleBatch(ctx context.Context, os []outcome) (delivered int, batchErr, err error) {
	if len(os) == 0 {
		return 0, nil, nil
	}
	batch := make([]Settlement, len(os))
	for i, o := range os {
		batch[i] = o.s
	}
	var results []error
	if err := e.guard(ctx, "settle deliveries", func() error {
		var err error
		results, err = e.cfg.Store.SettleDeliveries(ctx, batch)
		if err == nil && len(results) != len(batch) {
			err = fmt.Errorf("store returned %d results for %d settlements", len(results), len(batch))
		}
		return err
	}); err != nil {
		return 0, fmt.Errorf("invoice: record %d deliveries: %w", len(batch), err), nil
	}
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
	return delivered, nil, errors.Join(errs...)
}

// retryWait is the wait before the next attempt: the scheduled wait plus
// up to Config.RetryJitterPercent of it (so that receivers that fail
// together are not retried in lockstep), and at least what a 429 or 503
// answer's Retry-After asked for, up to Config.MaxRetryAfter.
func (e *Engine) retryWait(scheduled time.Duration, err error, status int) time.Duration {
	wait := scheduled
	if p := e.cfg.RetryJitterPercent; p > 0 {
		if span := scheduled / 100 * time.Duration(p); span > 0 {
			wait += rand.N(span + 1)
		}
	}
	var ra interface{ RetryAfter() time.Duration }
	if e.cfg.MaxRetryAfter > 0 && (status == 429 || status == 503) && errors.As(err, &ra) {
		if asked := min(ra.RetryAfter(), e.cfg.MaxRetryAfter); asked > wait {
			wait = asked
		}
	}
	return wait
}

type statusKey struct{}

// RecordStatus lets a Notifier record the HTTP status code of the attempt
// it is making, success or not, in the delivery log (Attempt.StatusCode).
// ctx is the context the engine passed to Notify; elsewhere RecordStatus
// does nothing. (An error with an HTTPStatus() int method records its code
// as well; one with a RetryAfter() time.Duration method, on a 429 or 503,
// delays the next attempt that long, up to Config.MaxRetryAfter.)
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
			err = e.recovered(ctx, "notifier", p)
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

// guard runs fn, turning a panic into an error matching ErrPanic (logged
// with its stack).
func (e *Engine) guard(ctx context.Context, what string, fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = e.recovered(ctx, what, p)
		}
	}()
	return fn()
}

// recovered logs a recovered panic with its stack and returns it as an
// error.
func (e *Engine) recovered(ctx context.Context, what string, p any) error {
	e.cfg.Logger.ErrorContext(ctx, "recovered panic", "in", what, "panic", RedactURLs(fmt.Sprint(p)),
		"stack", string(debug.Stack()))
	return &PanicError{In: what, Value: p}
}

// Run sweeps overdue invoices and delivers due callbacks until ctx ends,
// then stops gracefully and returns nil. Sweeping and delivering run side
// by side, so a slow receiver never delays an expiry. Each wakes every
// Config.PollInterval; delivery also wakes at once when this engine
// records new callbacks. Errors, and panics in the store or a notifier,
// are logged and retried on the next round. Run several engines on one
// store to share the work.
//
// A graceful stop claims nothing more but lets the attempts in flight
// finish and be recorded, for up to Config.ShutdownGrace: a normal
// shutdown delivers nothing twice. Whatever is still running after the
// grace is cancelled (a hard stop) and left to its lease, to be retried by
// another engine or after a restart. See RunWithHardStop to decide the
// hard stop yourself.
func (e *Engine) Run(ctx context.Context) error {
	return e.RunWithHardStop(ctx, nil)
}

// RunWithHardStop is Run with a second context: when ctx ends, Run stops
// gracefully as described there; when hard ends (or the grace is over),
// the attempts in flight are cancelled at once. A nil hard never ends.
func (e *Engine) RunWithHardStop(ctx, hard context.Context) error {
	if hard == nil {
		hard = context.Background()
	}
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	stopped := make(chan struct{})
	go func() {
		defer stopWork()
		select {
		case <-hard.Done():
			return
		case <-ctx.Done():
		case <-stopped:
			return
		}
		if e.cfg.ShutdownGrace <= 0 {
			return
		}
		grace := time.NewTimer(e.cfg.ShutdownGrace)
		defer grace.Stop()
		select {
		case <-hard.Done():
		case <-grace.C:
		case <-stopped:
		}
	}()
	// Claims stop with ctx, or with a hard stop.
	claim, stopClaims := context.WithCancel(ctx)
	defer stopClaims()
	go func() {
		select {
		case <-hard.Done():
			stopClaims()
		case <-claim.Done():
		}
	}()

	var wg sync.WaitGroup
	wg.Go(func() {
		e.loop(claim, nil, "sweep", func() {
			if _, err := e.sweep(claim, work); err != nil && claim.Err() == nil {
				e.cfg.Logger.ErrorContext(ctx, "sweep failed", "error", RedactURLs(err.Error()))
			}
		})
	})
	wg.Go(func() {
		e.loop(claim, e.wake, "delivery", func() {
			if _, err := e.deliverDue(claim, work); err != nil && claim.Err() == nil {
				e.cfg.Logger.ErrorContext(ctx, "delivery failed", "error", RedactURLs(err.Error()))
			}
		})
	})
	wg.Wait()
	close(stopped)
	return nil
}

// loop runs work at once, then every PollInterval or when wake fires,
// until ctx ends. A panic in work is logged and the loop goes on.
func (e *Engine) loop(ctx context.Context, wake <-chan struct{}, what string, work func()) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-wake:
		}
		_ = e.guard(ctx, what, func() error { work(); return nil })
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
