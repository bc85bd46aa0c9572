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

func (e *Engine) deliverBatch(ctx context.Context, batch []*Delivery) (int, error) {
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		delivered int
		errs      []error
	)
	sem := make(chan struct{}, e.cfg.DeliveryConcurrency)
	for _, d := range batch {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			var ok bool
			err := e.guard(ctx, "deliver", func() error {
				var err error
				ok, err = e.deliverOne(ctx, d)
				return err
			})
			mu.Lock()
			defer mu.Unlock()
			if ok {
				delivered++
			}
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	return delivered, errors.Join(errs...)
}

// deliverOne makes one attempt and records it. The error is about recording
// (the store), not about the receiver: a failed attempt is rescheduled.
func (e *Engine) deliverOne(ctx context.Context, d *Delivery) (bool, error) {
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
	if err == nil {
		if ackErr := e.cfg.Store.AckDelivery(ctx, d.ID, d.LeaseID, attempt); ackErr != nil {
			return false, e.recordErr(d, ackErr)
		}
		return true, nil
	}
	if ctx.Err() != nil {
		// Stopped hard: leave the delivery to its lease; another engine (or
		// this one after restart) retries it. Nothing is lost.
		return false, nil
	}
	// What is logged and stored: URLs redacted (a callback URL's token
	// stays secret), valid text that every store keeps, bounded.
	attempt.Error = attemptError(err)
	// Attempts so far, this one included; the first retry waits
	// RetrySchedule[0].
	n := len(d.Attempts) + 1
	dead := n > len(e.cfg.RetrySchedule)
	next := attempt.At
	if !dead {
		next = attempt.At.Add(e.retryWait(e.cfg.RetrySchedule[n-1], err, attempt.StatusCode))
	}
	e.cfg.Logger.WarnContext(ctx, "delivery failed", "delivery", d.ID, "invoice", d.InvoiceID,
		"channel", d.Channel.String(), "attempt", n, "dead", dead, "status", attempt.StatusCode,
		"next_attempt_at", next, "error", attempt.Error)
	if rerr := e.cfg.Store.RescheduleDelivery(ctx, d.ID, d.LeaseID, attempt, next, dead); rerr != nil {
		return false, e.recordErr(d, rerr)
	}
	return false, nil
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
