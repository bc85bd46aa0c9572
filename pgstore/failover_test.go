package pgstore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	invoice "github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/pgstore"
)

// failoverEngines and failoverWorkers shape the load: engines (each with
// its own pool, as separate processes would have) and goroutines per
// engine creating and cancelling invoices.
const (
	failoverEngines = 3
	failoverWorkers = 4
	// resumeBound is how long the engines may take to work again after
	// the standby is promoted.
	resumeBound = 15 * time.Second
)

// TestFailoverSynchronousStandby runs several engines under load on a
// primary with a synchronous standby, through one multi-host connection
// string with target_session_attrs=read-write; kills the primary
// (immediate), promotes the standby and checks that nothing acknowledged
// was lost: every invoice whose Create or Cancel returned success is there
// in that state with its callback, every callback is delivered at least
// once, the engines resume within resumeBound, and no invoice reached two
// final states.
func TestFailoverSynchronousStandby(t *testing.T) {
	r := runFailover(t, true)
	require.Zero(t, r.lost(), "acknowledged work lost with a synchronous standby:\n%s", r)
	require.Empty(t, r.twoFinal, "invoices with two final states")
	require.Empty(t, r.undelivered, "callbacks never delivered")
	require.Less(t, r.resumed, resumeBound, "engines resumed after promotion")
	t.Logf("%s", r)
}

// TestFailoverAsynchronousStandby is the same run with asynchronous
// replication: it measures (and logs) what a failover loses then, without
// failing on it. See BENCHMARKS.md for the results.
func TestFailoverAsynchronousStandby(t *testing.T) {
	r := runFailover(t, false)
	require.Less(t, r.resumed, resumeBound, "engines resumed after promotion")
	t.Logf("asynchronous replication: %s", r)
}

// failoverResult is what one failover run found.
type failoverResult struct {
	created, cancelled  int           // operations that returned success
	missingInvoices     []string      // created (success returned) but not there
	missingCancels      []string      // cancelled (success returned) but not failed by the cancel
	missingCallbacks    []string      // cancelled, but no stored cancel callback
	twoFinal            []string      // invoices whose delivered callbacks carry two final outcomes
	undelivered         []uuid.UUID   // stored callbacks never delivered
	deliveries, unique  int           // delivered callbacks, and distinct delivery IDs
	resumed             time.Duration // from promotion to the first successful operation
	outage              time.Duration // from the kill to the first successful operation
	beforeKill, afterOK int           // successful operations before the kill and after it
}

func (r *failoverResult) lost() int {
	return len(r.missingInvoices) + len(r.missingCancels) + len(r.missingCallbacks)
}

func (r *failoverResult) String() string {
	return fmt.Sprintf("%d creates and %d cancels acknowledged (%d before the kill, %d after); lost: %d invoices %v, "+
		"%d cancels %v, %d callbacks %v; two final states: %v; %d callbacks delivered (%d distinct), %d never; "+
		"outage %s (kill to first success), resumed %s after promotion",
		r.created, r.cancelled, r.beforeKill, r.afterOK, len(r.missingInvoices), head(r.missingInvoices),
		len(r.missingCancels), head(r.missingCancels), len(r.missingCallbacks), head(r.missingCallbacks), head(r.twoFinal),
		r.deliveries, r.unique, len(r.undelivered), r.outage.Round(time.Millisecond), r.resumed.Round(time.Millisecond))
}

func head(s []string) []string { return s[:min(len(s), 5)] }

// recorder is the merchant endpoint of all engines: it keeps every
// delivered callback by delivery ID.
type recorder struct {
	mu    sync.Mutex
	byID  map[uuid.UUID]*invoice.Callback
	count int
}

func (r *recorder) Notify(_ context.Context, d *invoice.Delivery) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.count++
	r.byID[d.ID] = d.Callback
	return nil
}

func runFailover(t *testing.T, syncStandby bool) *failoverResult {
	c := newCluster(t, syncStandby)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	schema := "failover"
	rec := &recorder{byID: make(map[uuid.UUID]*invoice.Callback)}

	type op struct {
		foreignID string
		cancelled bool
		at        time.Time
	}
	var (
		mu       sync.Mutex
		ledger   = map[string]*op{}
		firstOK  atomic.Int64 // unix ns of the first success after the kill
		killedAt atomic.Int64
		wg       sync.WaitGroup
		stores   []*pgstore.Store
	)
	// success records an acknowledged operation that started at start.
	success := func(foreignID string, cancelled bool, start time.Time) {
		now := time.Now()
		if k := killedAt.Load(); k != 0 && start.UnixNano() > k {
			firstOK.CompareAndSwap(0, now.UnixNano()) // necessarily on the new primary
		}
		mu.Lock()
		defer mu.Unlock()
		o := ledger[foreignID]
		if o == nil {
			o = &op{foreignID: foreignID}
			ledger[foreignID] = o
		}
		o.cancelled = o.cancelled || cancelled
		o.at = now
	}

	for e := range failoverEngines {
		cfg, err := pgxpool.ParseConfig(c.multiHostURL())
		require.NoError(t, err)
		cfg.MaxConns = failoverWorkers + 2
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		s, err := pgstore.New(pool, pgstore.WithSchema(schema))
		require.NoError(t, err)
		if e == 0 {
			require.NoError(t, s.Migrate(ctx))
		}
		stores = append(stores, s)
		h := invoicetest.New(t, func(cfg *invoice.Config) {
			cfg.Store, cfg.Clock, cfg.NewID, cfg.Notifier = s, invoice.SystemClock{}, uuid.NewV7, rec
			cfg.PaymentWindow = 1500 * time.Millisecond // the sweep fails what is not cancelled
			cfg.PollInterval = 50 * time.Millisecond
			cfg.DeliveryTimeout, cfg.DeliveryLease = time.Second, 2*time.Second
			cfg.SweepLease = 2 * time.Second
			cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		})
		wg.Go(func() { _ = h.Engine.Run(ctx) })
		for w := range failoverWorkers {
			wg.Go(func() {
				for i := 0; ctx.Err() == nil; i++ {
					id := fmt.Sprintf("e%d-w%d-%d", e, w, i)
					start := time.Now()
					if _, err := h.Engine.Create(ctx, timerRequest(id)); err != nil {
						time.Sleep(20 * time.Millisecond)
						continue
					}
					success(id, false, start)
					if i%2 == 0 {
						continue // left to expire: the sweep fails it
					}
					start = time.Now()
					if _, err := h.Engine.Cancel(ctx, id); err == nil {
						success(id, true, start)
					}
				}
			})
		}
	}

	time.Sleep(3 * time.Second) // load on the primary
	mu.Lock()
	before := len(ledger)
	mu.Unlock()
	require.NotZero(t, before, "no operation succeeded before the kill\n%s", c.logs())
	killStart := time.Now()
	c.killPrimary()
	killedAt.Store(time.Now().UnixNano()) // the primary is gone
	promoteStart := time.Now()
	c.promote() // what the failover manager does
	deadline := time.Now().Add(resumeBound + 5*time.Second)
	for firstOK.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	r := &failoverResult{}
	if f := firstOK.Load(); f != 0 {
		r.outage = time.Unix(0, f).Sub(killStart)
		r.resumed = time.Unix(0, f).Sub(promoteStart)
	} else {
		r.resumed, r.outage = time.Hour, time.Hour
	}
	time.Sleep(2 * time.Second) // load on the new primary
	stop()
	wg.Wait()

	// Let the new primary finish what is due: every invoice expires within
	// the payment window, and every callback is delivered.
	s := stores[0]
	h := invoicetest.New(t, func(cfg *invoice.Config) {
		cfg.Store, cfg.Clock, cfg.NewID, cfg.Notifier = s, invoice.SystemClock{}, uuid.NewV7, rec
		cfg.PaymentWindow = 1500 * time.Millisecond
	})
	bg := context.Background()
	time.Sleep(1600 * time.Millisecond)
	_, err := h.Engine.Sweep(bg)
	require.NoError(t, err)
	// Deliveries the stopped engines held stay leased until DeliveryLease
	// (2 s) runs out; then they are anyone's again.
	for deadline := time.Now().Add(10 * time.Second); ; {
		_, err = h.Engine.DeliverDue(bg)
		require.NoError(t, err)
		pending, err := s.ListDeliveries(bg, invoice.DeliveryQuery{State: invoice.DeliveryPending, Limit: 1})
		require.NoError(t, err)
		if len(pending) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Check against the ledger and the new primary.
	killed := killStart
	for _, o := range ledger {
		r.created++
		if o.at.Before(killed) {
			r.beforeKill++
		} else {
			r.afterOK++
		}
		inv, err := s.GetInvoiceByForeignID(bg, o.foreignID)
		if err != nil {
			r.missingInvoices = append(r.missingInvoices, o.foreignID)
			continue
		}
		if !o.cancelled {
			continue
		}
		r.cancelled++
		if inv.Status != invoice.StatusFailed || inv.Error != invoice.ReasonCancelled {
			r.missingCancels = append(r.missingCancels, o.foreignID)
		}
		ds, err := s.ListDeliveries(bg, invoice.DeliveryQuery{InvoiceID: inv.ID, Limit: 100})
		require.NoError(t, err)
		found := false
		for _, d := range ds {
			found = found || (d.Callback != nil && d.Callback.Status == invoice.StatusFailed && d.Callback.Error == invoice.ReasonCancelled)
		}
		if !found {
			r.missingCallbacks = append(r.missingCallbacks, o.foreignID)
		}
	}
	// Every stored callback delivered at least once.
	for after := uuid.Nil; ; {
		page, err := s.ListDeliveries(bg, invoice.DeliveryQuery{After: after, Limit: 1000})
		require.NoError(t, err)
		for _, d := range page {
			rec.mu.Lock()
			_, seen := rec.byID[d.ID]
			rec.mu.Unlock()
			if !seen || d.State != invoice.DeliveryDelivered {
				r.undelivered = append(r.undelivered, d.ID)
			}
		}
		if len(page) < 1000 {
			break
		}
		after = page[len(page)-1].ID
	}
	// No invoice with two final outcomes among what was delivered (a
	// callback delivered twice has the same delivery ID and counts once).
	rec.mu.Lock()
	finals := map[string]map[string]bool{}
	for _, cb := range rec.byID {
		if cb.Status.IsFinal() {
			if finals[cb.ForeignID] == nil {
				finals[cb.ForeignID] = map[string]bool{}
			}
			finals[cb.ForeignID][cb.Status.String()+": "+cb.Error] = true
		}
	}
	r.deliveries, r.unique = rec.count, len(rec.byID)
	rec.mu.Unlock()
	for fid, outcomes := range finals {
		if len(outcomes) > 1 {
			r.twoFinal = append(r.twoFinal, fid)
		}
	}
	return r
}
