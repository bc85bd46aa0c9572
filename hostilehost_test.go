package invoice_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/memstore"
)

// statusErr is a receiver's answer with an optional Retry-After.
type statusErr struct {
	code  int
	after time.Duration
}

func (e statusErr) Error() string             { return fmt.Sprintf("answered %d", e.code) }
func (e statusErr) HTTPStatus() int           { return e.code }
func (e statusErr) RetryAfter() time.Duration { return e.after }
func failWith(err error) invoice.NotifierFunc {
	return func(context.Context, *invoice.Delivery) error { return err }
}
func nextAttempt(t *testing.T, h *invoicetest.Harness, foreignID string) time.Time {
	t.Helper()
	ds, err := h.Engine.Deliveries(ctx, foreignID)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	return ds[0].NextAttemptAt
}

func TestRetryJitterIsBounded(t *testing.T) {
	h := invoicetest.New(t, func(c *invoice.Config) {
		c.RetryJitterPercent = 0 // the engine's default: 10
		c.Notifier = failWith(errors.New("down"))
	})
	const n = 40
	for i := range n {
		create(t, h, typ3(fmt.Sprint("o-", i)))
		_, err := h.Engine.Cancel(ctx, fmt.Sprint("o-", i))
		require.NoError(t, err)
	}
	_, err := h.Engine.DeliverDue(ctx)
	require.NoError(t, err)
	seen := map[time.Time]bool{}
	for i := range n {
		at := nextAttempt(t, h, fmt.Sprint("o-", i))
		wait := at.Sub(invoicetest.Epoch)
		assert.GreaterOrEqual(t, wait, time.Minute, "never before the schedule")
		assert.LessOrEqual(t, wait, time.Minute+6*time.Second, "at most 10%% later")
		seen[at] = true
	}
	assert.Greater(t, len(seen), n/4, "retries are spread, not in lockstep")
}

func TestRetryAfterIsHonouredUpToTheCap(t *testing.T) {
	for name, c := range map[string]struct {
		err  error
		want time.Duration
	}{
		"429 asks for longer":       {statusErr{429, 10 * time.Minute}, 10 * time.Minute},
		"503 asks for longer":       {statusErr{503, 30 * time.Minute}, 30 * time.Minute},
		"capped":                    {statusErr{429, 48 * time.Hour}, time.Hour},
		"shorter than the schedule": {statusErr{429, 5 * time.Second}, time.Minute},
		"500 is not a Retry-After":  {statusErr{500, 10 * time.Minute}, time.Minute},
		"wrapped":                   {fmt.Errorf("post: %w", statusErr{503, 7 * time.Minute}), 7 * time.Minute},
		"plain error":               {errors.New("refused"), time.Minute},
	} {
		t.Run(name, func(t *testing.T) {
			h := invoicetest.New(t, func(cfg *invoice.Config) { cfg.Notifier = failWith(c.err) })
			create(t, h, typ3("o-1"))
			_, err := h.Engine.Cancel(ctx, "o-1")
			require.NoError(t, err)
			_, err = h.Engine.DeliverDue(ctx)
			require.NoError(t, err)
			assert.Equal(t, invoicetest.Epoch.Add(c.want), nextAttempt(t, h, "o-1"))
		})
	}
}

// panicky is a Store whose chosen methods panic while armed.
type panicky struct {
	invoice.Store
	armed map[string]*atomic.Int32 // method → panics left
	// poisoned, when set, is the one delivery whose batches
	// SettleDeliveries panics on while armed.
	poisoned uuid.UUID
}

func newPanicky(methods ...string) *panicky {
	p := &panicky{Store: memstore.New(), armed: map[string]*atomic.Int32{}}
	for _, m := range methods {
		p.armed[m] = new(atomic.Int32)
	}
	return p
}

func (p *panicky) arm(method string, times int32) { p.armed[method].Store(times) }

func (p *panicky) maybe(method string) {
	if n, ok := p.armed[method]; ok && n.Add(-1) >= 0 {
		panic("store exploded in " + method)
	}
}

func (p *panicky) ClaimDueInvoices(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*invoice.Invoice, error) {
	p.maybe("ClaimDueInvoices")
	return p.Store.ClaimDueInvoices(ctx, now, lease, limit)
}

func (p *panicky) UpdateInvoice(ctx context.Context, inv *invoice.Invoice, outbox []*invoice.Delivery) error {
	p.maybe("UpdateInvoice")
	return p.Store.UpdateInvoice(ctx, inv, outbox)
}

func (p *panicky) UpdateInvoices(ctx context.Context, batch []invoice.InvoiceUpdate) ([]error, error) {
	p.maybe("UpdateInvoices")
	return p.Store.UpdateInvoices(ctx, batch)
}

func (p *panicky) SettleDeliveries(ctx context.Context, batch []invoice.Settlement) ([]error, error) {
	if p.poisoned == uuid.Nil || slices.ContainsFunc(batch, func(st invoice.Settlement) bool { return st.ID == p.poisoned }) {
		p.maybe("SettleDeliveries")
	}
	return p.Store.SettleDeliveries(ctx, batch)
}

func (p *panicky) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*invoice.Delivery, error) {
	p.maybe("ClaimDeliveries")
	return p.Store.ClaimDeliveries(ctx, now, lease, limit)
}

func TestStorePanicsAreRecoveredAndRetried(t *testing.T) {
	store := newPanicky("ClaimDueInvoices", "UpdateInvoices", "UpdateInvoice", "ClaimDeliveries",
		"SettleDeliveries")
	var logs bytes.Buffer
	h := invoicetest.New(t, func(c *invoice.Config) {
		c.Store = store
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	create(t, h, typ3("o-1"))
	create(t, h, typ3("o-2"))
	h.Clock.Advance(time.Hour)

	store.arm("ClaimDueInvoices", 1)
	_, err := h.Engine.Sweep(ctx)
	require.ErrorIs(t, err, invoice.ErrPanic)
	var pe *invoice.PanicError
	require.ErrorAs(t, err, &pe)
	assert.Contains(t, logs.String(), "recovered panic")
	assert.Contains(t, logs.String(), "stack=")

	// The batch update panics; done again one by one, the first invoice's
	// expiry panics, the second's does not.
	store.arm("UpdateInvoices", 1)
	store.arm("UpdateInvoice", 1)
	n, err := h.Engine.Sweep(ctx)
	require.ErrorIs(t, err, invoice.ErrPanic)
	assert.Equal(t, 1, n, "the other invoice is still failed")
	h.Clock.Advance(2 * time.Minute) // the sweep lease runs out
	n, err = h.Engine.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "and the first one on the next sweep")

	store.arm("ClaimDeliveries", 1)
	_, err = h.Engine.DeliverDue(ctx)
	require.ErrorIs(t, err, invoice.ErrPanic)
	// Settling o-1's acknowledgement panics (its batch, then o-1 alone when
	// the batch is settled again one by one); o-2's is stored.
	first, err := h.Engine.Deliveries(ctx, "o-1")
	require.NoError(t, err)
	store.poisoned = first[0].ID
	store.arm("SettleDeliveries", 2)
	delivered, err := h.Engine.DeliverDue(ctx)
	require.ErrorIs(t, err, invoice.ErrPanic)
	assert.Equal(t, 1, delivered)
	store.arm("SettleDeliveries", 0)
	h.Clock.Advance(3 * time.Minute) // the delivery lease runs out
	delivered, err = h.Engine.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, delivered, "the delivery whose ack panicked is retried")
	// At least once: the receiver got the delivery whose ack panicked
	// twice, with the same delivery ID to drop the repeat by.
	ids := map[uuid.UUID]int{}
	for _, d := range h.Merchant.Deliveries() {
		ids[d.ID]++
	}
	assert.Len(t, ids, 2)
	assert.Len(t, h.Merchant.Deliveries(), 3)
	for _, id := range []string{"o-1", "o-2"} {
		ds, err := h.Engine.Deliveries(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, invoice.DeliveryDelivered, ds[0].State, id)
	}
}

func TestRunSurvivesPanics(t *testing.T) {
	store := newPanicky("ClaimDueInvoices", "ClaimDeliveries")
	store.arm("ClaimDueInvoices", 3)
	store.arm("ClaimDeliveries", 3)
	notifierPanics := atomic.Int32{}
	notifierPanics.Store(2)
	rec := invoicetest.NewNotifier()
	h := invoicetest.New(t, func(c *invoice.Config) {
		c.Store = store
		c.PollInterval = 5 * time.Millisecond
		c.RetrySchedule = []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}
		c.Clock = invoice.SystemClock{}
		c.Notifier = invoice.NotifierFunc(func(ctx context.Context, d *invoice.Delivery) error {
			if notifierPanics.Add(-1) >= 0 {
				panic("notifier exploded")
			}
			return rec.Notify(ctx, d)
		})
	})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- h.Engine.Run(runCtx) }()
	create(t, h, typ3("o-1"))
	_, err := h.Engine.Cancel(ctx, "o-1")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(rec.Statuses("o-1")) == 1 }, 10*time.Second, 5*time.Millisecond,
		"delivered despite panics in the store and the notifier")
	cancel()
	require.NoError(t, <-done)
}

// blocking is a Notifier that holds each attempt until released, and
// reports how the attempt ended.
type blocking struct {
	started  chan struct{}
	release  chan struct{}
	mu       sync.Mutex
	outcomes []error
}

func newBlocking() *blocking {
	return &blocking{started: make(chan struct{}, 10), release: make(chan struct{})}
}

func (b *blocking) Notify(ctx context.Context, _ *invoice.Delivery) error {
	b.started <- struct{}{}
	var err error
	select {
	case <-b.release:
	case <-ctx.Done():
		err = ctx.Err()
	}
	b.mu.Lock()
	b.outcomes = append(b.outcomes, err)
	b.mu.Unlock()
	return err
}

func (b *blocking) results() []error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]error(nil), b.outcomes...)
}

func runWithInFlight(t *testing.T, grace time.Duration) (*invoicetest.Harness, *blocking, context.CancelFunc, chan error, context.CancelFunc) {
	t.Helper()
	b := newBlocking()
	h := invoicetest.New(t, func(c *invoice.Config) {
		c.Notifier = b
		c.PollInterval = 5 * time.Millisecond
		c.ShutdownGrace = grace
	})
	create(t, h, typ3("o-1"))
	_, err := h.Engine.Cancel(ctx, "o-1")
	require.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	hard, hardStop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- h.Engine.RunWithHardStop(runCtx, hard) }()
	select {
	case <-b.started:
	case <-time.After(5 * time.Second):
		t.Fatal("no attempt started")
	}
	t.Cleanup(func() { stop(); hardStop() })
	return h, b, stop, done, hardStop
}

func TestGracefulStopLetsAttemptsFinish(t *testing.T) {
	h, b, stop, done, _ := runWithInFlight(t, 10*time.Second)
	stop() // a normal shutdown, while the attempt is in flight
	select {
	case <-done:
		t.Fatal("Run returned before the attempt in flight finished")
	case <-time.After(50 * time.Millisecond):
	}
	close(b.release) // the receiver answers
	require.NoError(t, <-done)
	require.Equal(t, []error{nil}, b.results(), "the attempt was not cancelled")
	ds, err := h.Engine.Deliveries(ctx, "o-1")
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, invoice.DeliveryDelivered, ds[0].State, "recorded as delivered: nothing to deliver again")
	assert.Len(t, ds[0].Attempts, 1)
}

func TestHardStopCancelsAttempts(t *testing.T) {
	h, b, stop, done, hardStop := runWithInFlight(t, 10*time.Second)
	stop()
	hardStop()
	require.NoError(t, <-done)
	require.Len(t, b.results(), 1)
	assert.ErrorIs(t, b.results()[0], context.Canceled)
	ds, err := h.Engine.Deliveries(ctx, "o-1")
	require.NoError(t, err)
	assert.Equal(t, invoice.DeliveryPending, ds[0].State, "left to its lease")
	assert.Empty(t, ds[0].Attempts, "a cancelled attempt is not a failure")
}

func TestGraceRunsOut(t *testing.T) {
	_, b, stop, done, _ := runWithInFlight(t, 50*time.Millisecond)
	start := time.Now()
	stop()
	require.NoError(t, <-done)
	assert.GreaterOrEqual(t, time.Since(start), 40*time.Millisecond)
	require.Len(t, b.results(), 1)
	assert.ErrorIs(t, b.results()[0], context.Canceled, "cancelled when the grace ran out")
}

func TestSecretsInURLsStayOutOfAttemptsAndLogs(t *testing.T) {
	var logs bytes.Buffer
	h := invoicetest.New(t, func(c *invoice.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
		c.Notifier = failWith(errors.New(`Post "https://merchant:hunter2@shop.example/cb?token=s3cr3t&x=1": dial tcp: refused`))
	})
	create(t, h, typ3("o-1"))
	_, err := h.Engine.Cancel(ctx, "o-1")
	require.NoError(t, err)
	_, err = h.Engine.DeliverDue(ctx)
	require.NoError(t, err)
	ds, err := h.Engine.Deliveries(ctx, "o-1")
	require.NoError(t, err)
	msg := ds[0].Attempts[0].Error
	for _, secret := range []string{"s3cr3t", "hunter2", "merchant:"} {
		assert.NotContains(t, msg, secret)
		assert.NotContains(t, logs.String(), secret)
	}
	assert.Contains(t, msg, "shop.example/cb?token=REDACTED&x=REDACTED", "the URL stays recognisable")
	assert.Contains(t, logs.String(), "delivery failed")
}

func TestAttemptErrorsAreStorableText(t *testing.T) {
	h := invoicetest.New(t, func(c *invoice.Config) {
		c.Notifier = failWith(errors.New("bad \x00 byte \xff and " + strings.Repeat("x", 5000)))
	})
	create(t, h, typ3("o-1"))
	_, err := h.Engine.Cancel(ctx, "o-1")
	require.NoError(t, err)
	_, err = h.Engine.DeliverDue(ctx)
	require.NoError(t, err)
	ds, err := h.Engine.Deliveries(ctx, "o-1")
	require.NoError(t, err)
	require.Len(t, ds[0].Attempts, 1, "the failure was recorded")
	a := ds[0].Attempts[0]
	require.NoError(t, a.CheckStorable())
	assert.LessOrEqual(t, len(a.Error), 1010)
	assert.True(t, invoice.ValidText(a.Error))
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://shop.example/cb":              "https://shop.example/cb",
		"https://shop.example/cb?token=abc":    "https://shop.example/cb?token=REDACTED",
		"https://u:p@shop.example/cb?a=1&b&c=": "https://REDACTED@shop.example/cb?a=REDACTED&REDACTED&c=REDACTED",
		"https://shop.example/cb#frag":         "https://shop.example/cb",
		"not a url":                            "REDACTED",
		"http://[::1]:8080/x?k=v":              "http://[::1]:8080/x?k=REDACTED",
	} {
		assert.Equal(t, want, invoice.RedactURL(in), in)
	}
	assert.Equal(t, `POST https://h.example/p?t=REDACTED: refused; see "http://REDACTED@o.example/".`,
		invoice.RedactURLs(`POST https://h.example/p?t=1: refused; see "http://a:b@o.example/".`))
	assert.Equal(t, "no urls here :// at all", invoice.RedactURLs("no urls here :// at all"))
}
