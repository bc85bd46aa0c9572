package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	invoice "github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/pgstore"
)

// newEngine builds an engine with invoicetest's fakes on store s, driven
// by clock, with random (UUIDv7) IDs so that several engines never collide.
func newEngine(t *testing.T, s invoice.Store, clock *invoicetest.Clock, mods ...func(*invoice.Config)) *invoicetest.Harness {
	t.Helper()
	return invoicetest.New(t, append([]func(*invoice.Config){func(c *invoice.Config) {
		c.Store = s
		c.Clock = clock
		c.NewID = uuid.NewV7
		c.DeliveryConcurrency = 8
	}}, mods...)...)
}

// instance is one engine "process": its own pool, Store and engine on the
// shared schema.
type instance struct {
	pool  *pgxpool.Pool
	store *pgstore.Store
	h     *invoicetest.Harness
}

func newInstance(t *testing.T, schema string, clock *invoicetest.Clock, mods ...func(*invoice.Config)) *instance {
	t.Helper()
	requireDB(t)
	pool, err := connect(databaseURL(), 4)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s := newStoreOn(t, pool, schema)
	return &instance{pool: pool, store: s, h: newEngine(t, s, clock, mods...)}
}

// timerRequest is a timer invoice with a pre-selected currency and an
// e-mail: pending from creation, 15-minute payment window.
func timerRequest(foreignID string) invoice.CreateRequest {
	return invoice.CreateRequest{
		ForeignID: foreignID, Title: "Order", Amount: dec("100"), Currency: "EUR",
		Timer: true, SenderCurrency: "BTC", Email: "buyer@example.com",
	}
}

func TestEngineLifecycleOnPostgres(t *testing.T) {
	s := newStore(t)
	clock := invoicetest.NewClock(invoicetest.Epoch)
	h := newEngine(t, s, clock)
	ctx := bg()
	inv, err := h.Engine.Create(ctx, invoice.CreateRequest{ForeignID: "o-1", Title: "t", Amount: dec("100.50"), Currency: "EUR"})
	require.NoError(t, err)
	inv, err = h.Engine.ConfirmPayment(ctx, "o-1", invoice.Confirmation{Currency: "BTC", Email: "c@example.com"})
	require.NoError(t, err)
	for _, st := range []invoice.TxStatus{invoice.TxNotConfirmed, invoice.TxConfirmed} {
		_, err = h.Engine.ReportTransaction(ctx, "o-1", invoice.TransactionReport{
			TxID: "tx1", Currency: "BTC", Amount: inv.SenderAmount.Add(dec("0.00000100")), Confirmations: int64(st) - 1, Status: st}) // confirmed: 1 confirmation
		require.NoError(t, err)
	}
	n, err := h.Engine.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 4, n, "three callbacks and one refund notice (overpaid)")
	require.Equal(t, []invoice.Status{invoice.StatusPending, invoice.StatusProcessing, invoice.StatusConfirmed},
		h.Merchant.Statuses("o-1"))
	require.Len(t, h.Customers.Notices("o-1"), 1)
	got, err := h.Engine.Get(ctx, "o-1")
	require.NoError(t, err)
	require.Equal(t, invoice.StatusConfirmed, got.Status)
	requireDecimal(t, "100.50", got.Amount)
	require.Len(t, got.RefundClaims, 1)
	requireDecimal(t, "0.00000100", got.RefundClaims[0].Amount)

	// Expiry through the sweep.
	_, err = h.Engine.Create(ctx, timerRequest("o-2"))
	require.NoError(t, err)
	clock.Advance(16 * time.Minute)
	failed, err := h.Engine.Sweep(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, failed)
	_, err = h.Engine.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, []invoice.Status{invoice.StatusFailed}, h.Merchant.Statuses("o-2"))
}

// TestEngineCreateInHostTransaction creates invoices through
// Engine.CreateIn inside the host's transaction.
func TestEngineCreateInHostTransaction(t *testing.T) {
	s := newStore(t)
	h := newEngine(t, s, invoicetest.NewClock(invoicetest.Epoch))
	ctx := bg()
	orders := pgx.Identifier{s.Schema(), "orders"}.Sanitize()
	_, err := s.Pool().Exec(ctx, "CREATE TABLE "+orders+" (id text PRIMARY KEY, invoice_number bigint)")
	require.NoError(t, err)

	placeOrder := func(id string, fail bool) error {
		return pgx.BeginFunc(ctx, s.Pool(), func(tx pgx.Tx) error {
			inv, err := h.Engine.CreateIn(ctx, s.WithTx(tx), timerRequest(id))
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "INSERT INTO "+orders+" VALUES ($1, $2)", id, inv.Number); err != nil {
				return err
			}
			if fail {
				return errors.New("payment provider said no")
			}
			return nil
		})
	}
	require.Error(t, placeOrder("rolled-back", true))
	_, err = h.Engine.Get(ctx, "rolled-back")
	require.ErrorIs(t, err, invoice.ErrNotFound)

	require.NoError(t, placeOrder("committed", false))
	inv, err := h.Engine.Get(ctx, "committed")
	require.NoError(t, err)
	var number int64
	require.NoError(t, s.Pool().QueryRow(ctx, "SELECT invoice_number FROM "+orders+" WHERE id = 'committed'").Scan(&number))
	require.Equal(t, inv.Number, number)

	// An identical retry inside a new transaction is idempotent.
	require.Error(t, placeOrder("committed", false), "the order row is the duplicate now")
	require.NoError(t, pgx.BeginFunc(ctx, s.Pool(), func(tx pgx.Tx) error {
		again, err := h.Engine.CreateIn(ctx, s.WithTx(tx), timerRequest("committed"))
		if err == nil && again.ID != inv.ID {
			err = fmt.Errorf("got another invoice %s", again.ID)
		}
		return err
	}))
}

// allDeliveries returns every delivery of the store's invoices, by invoice.
func allDeliveries(t *testing.T, s invoice.Store) map[uuid.UUID][]*invoice.Delivery {
	t.Helper()
	out := map[uuid.UUID][]*invoice.Delivery{}
	q := invoice.DeliveryQuery{Limit: 1000}
	for {
		page, err := s.ListDeliveries(bg(), q)
		require.NoError(t, err)
		for _, d := range page {
			out[d.InvoiceID] = append(out[d.InvoiceID], d)
		}
		if len(page) < q.Limit {
			return out
		}
		q.After = page[len(page)-1].ID
	}
}

// nonFinalEdges are the status changes the race below can produce.
var nonFinalEdges = map[[2]invoice.Status]bool{
	{invoice.StatusPending, invoice.StatusProcessing}:    true,
	{invoice.StatusPending, invoice.StatusFailed}:        true,
	{invoice.StatusProcessing, invoice.StatusConfirmed}:  true,
	{invoice.StatusProcessing, invoice.StatusFailed}:     true,
	{invoice.StatusProcessing, invoice.StatusPending}:    true,
	{invoice.StatusFailed, invoice.StatusFailed}:         true, // late payment: recorded, merchant told
	{invoice.StatusConfirmed, invoice.StatusConfirmed}:   false,
	{invoice.StatusPending, invoice.StatusPending}:       false,
	{invoice.StatusProcessing, invoice.StatusProcessing}: false,
}

// checkOutcome asserts, for every invoice, one final status, one callback
// per transition in a valid order, and every delivery acknowledged and
// seen by some notifier.
func checkOutcome(t *testing.T, s invoice.Store, invs []*invoice.Invoice, hs ...*invoicetest.Harness) map[invoice.Status]int {
	t.Helper()
	seenMerchant := map[uuid.UUID]bool{}
	seenClaims := map[uuid.UUID]bool{}
	for _, h := range hs {
		for _, d := range h.Merchant.Deliveries() {
			seenMerchant[d.ID] = true
		}
		for _, n := range h.Customers.Notices("") {
			seenClaims[n.ClaimID] = true
		}
	}
	deliveries := allDeliveries(t, s)
	outcome := map[invoice.Status]int{}
	for _, created := range invs {
		inv, err := s.GetInvoice(bg(), created.ID)
		require.NoError(t, err)
		require.True(t, inv.Status.IsFinal(), "%s ended %s", inv.ForeignID, inv.Status)
		outcome[inv.Status]++
		ds := deliveries[inv.ID]
		slices.SortFunc(ds, func(a, b *invoice.Delivery) int { return int(a.Seq - b.Seq) })
		prev, finals := created.Status, 0
		claims := map[uuid.UUID]bool{}
		for _, d := range ds {
			require.Equal(t, invoice.DeliveryDelivered, d.State, "%s delivery %d", inv.ForeignID, d.Seq)
			require.NotEmpty(t, d.Attempts)
			if d.Channel == invoice.ChannelCustomer {
				require.True(t, seenClaims[d.Notice.ClaimID], "%s: notice never reached a notifier", inv.ForeignID)
				require.False(t, claims[d.Notice.ClaimID], "%s: claim notified twice", inv.ForeignID)
				claims[d.Notice.ClaimID] = true
				continue
			}
			require.True(t, seenMerchant[d.ID], "%s: callback %d never reached a notifier", inv.ForeignID, d.Seq)
			st := d.Callback.Status
			require.True(t, nonFinalEdges[[2]invoice.Status{prev, st}], "%s: callback %s after %s", inv.ForeignID, st, prev)
			if st.IsFinal() && !prev.IsFinal() {
				finals++
			}
			prev = st
		}
		require.Equal(t, 1, finals, "%s: one callback for the final transition", inv.ForeignID)
		require.Equal(t, inv.Status, prev, "%s: last callback is the final status", inv.ForeignID)
		require.Len(t, claims, len(inv.RefundClaims), "%s: one notice per refund claim", inv.ForeignID)
	}
	return outcome
}

// TestEnginesRaceOnSharedInvoices runs three engines, each with its own
// pool, over the same invoices at once: one cancels every invoice, one
// reports a payment (seen, then confirmed) for every invoice, one sweeps;
// all three deliver callbacks meanwhile. Half the invoices are overdue when
// the race starts.
func TestEnginesRaceOnSharedInvoices(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 200
	}
	pool := requireDB(t)
	schema := freshSchema(t, pool)
	clock := invoicetest.NewClock(invoicetest.Epoch)
	var inst [3]*instance
	for i := range inst {
		// The sweeping engine works its batches with 4 goroutines.
		inst[i] = newInstance(t, schema, clock, func(c *invoice.Config) { c.SweepConcurrency = 4 })
	}
	ctx := bg()

	// Even invoices at Epoch (due at +15m), odd ones at +10m (due at +25m).
	invs := make([]*invoice.Invoice, n)
	create := func(parity int) {
		var wg sync.WaitGroup
		for w := range 6 {
			wg.Go(func() {
				for i := parity + 2*w; i < n; i += 12 {
					inv, err := inst[i%3].h.Engine.Create(ctx, timerRequest(fmt.Sprintf("race-%04d", i)))
					if err != nil {
						t.Error(err)
						return
					}
					invs[i] = inv
				}
			})
		}
		wg.Wait()
	}
	create(0)
	clock.Advance(10 * time.Minute)
	create(1)
	require.False(t, t.Failed())
	clock.Advance(6 * time.Minute) // +16m: the even half is overdue

	var (
		wg      sync.WaitGroup
		working atomic.Int32
		errs    = make(chan error, 100)
	)
	report := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	working.Store(2)
	wg.Go(func() { // engine 0 cancels, in order
		defer working.Add(-1)
		for i := range n {
			_, err := inst[0].h.Engine.Cancel(ctx, invs[i].ForeignID)
			if err != nil && !errors.Is(err, invoice.ErrInvalidState) {
				report(fmt.Errorf("cancel %s: %w", invs[i].ForeignID, err))
			}
		}
	})
	wg.Go(func() { // engine 1 pays, in reverse order
		defer working.Add(-1)
		for i := n - 1; i >= 0; i-- {
			for _, st := range []invoice.TxStatus{invoice.TxNotConfirmed, invoice.TxConfirmed} {
				_, err := inst[1].h.Engine.ReportTransaction(ctx, invs[i].ForeignID, invoice.TransactionReport{
					TxID: "tx-" + invs[i].ForeignID, Currency: "BTC", Amount: invs[i].SenderAmount, Confirmations: int64(st) - 1, Status: st}) // confirmed: 1 confirmation
				if err != nil {
					report(fmt.Errorf("report %s: %w", invs[i].ForeignID, err))
				}
			}
		}
	})
	wg.Go(func() { // engine 2 sweeps
		for working.Load() > 0 {
			if _, err := inst[2].h.Engine.Sweep(ctx); err != nil {
				report(fmt.Errorf("sweep: %w", err))
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	for _, in := range inst { // everyone delivers
		wg.Go(func() {
			for working.Load() > 0 {
				if _, err := in.h.Engine.DeliverDue(ctx); err != nil {
					report(fmt.Errorf("deliver: %w", err))
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Drain what was recorded after the deliverers stopped.
	_, err := inst[2].h.Engine.Sweep(ctx)
	require.NoError(t, err)
	for _, in := range inst {
		_, err := in.h.Engine.DeliverDue(ctx)
		require.NoError(t, err)
	}

	outcome := checkOutcome(t, inst[0].store, invs, inst[0].h, inst[1].h, inst[2].h)
	t.Logf("outcomes: %v", outcome)
	require.Equal(t, n, outcome[invoice.StatusConfirmed]+outcome[invoice.StatusFailed])
}

// TestEngineDiesMidDelivery stops an engine in the middle of a delivery
// batch, by cancelling its context or by closing its pool under it. What it
// held stays leased; another engine delivers everything once the leases
// run out, and nothing is lost.
func TestEngineDiesMidDelivery(t *testing.T) {
	for _, how := range []string{"cancelled context", "closed pool"} {
		t.Run(how, func(t *testing.T) {
			pool := requireDB(t)
			schema := freshSchema(t, pool)
			clock := invoicetest.NewClock(invoicetest.Epoch)
			ctx := bg()

			survivor := newInstance(t, schema, clock)
			// The victim acknowledges a few callbacks, then dies while the
			// rest of its batch is in flight.
			dieCtx, die := context.WithCancel(ctx)
			var victim *instance
			var notified atomic.Int32
			recorder := invoicetest.NewNotifier()
			notifier := invoice.NotifierFunc(func(ctx context.Context, d *invoice.Delivery) error {
				if notified.Add(1) == 25 {
					if how == "closed pool" {
						go victim.pool.Close()
						time.Sleep(20 * time.Millisecond)
					} else {
						die()
					}
				}
				return recorder.Notify(ctx, d)
			})
			victim = newInstance(t, schema, clock, func(c *invoice.Config) {
				c.Notifier = notifier
				c.DeliveryBatch = 60
				c.DeliveryConcurrency = 4
			})

			const n = 100
			var invs []*invoice.Invoice
			for i := range n {
				inv, err := survivor.h.Engine.Create(ctx, timerRequest(fmt.Sprint("die-", i)))
				require.NoError(t, err)
				invs = append(invs, inv)
				for _, st := range []invoice.TxStatus{invoice.TxNotConfirmed, invoice.TxConfirmed} {
					_, err := survivor.h.Engine.ReportTransaction(ctx, inv.ForeignID, invoice.TransactionReport{
						TxID: "tx", Currency: "BTC", Amount: inv.SenderAmount, Confirmations: int64(st) - 1, Status: st}) // confirmed: 1 confirmation
					require.NoError(t, err)
				}
			}

			delivered, err := victim.h.Engine.DeliverDue(dieCtx)
			t.Logf("victim delivered %d before dying (error: %.200v)", delivered, err)
			require.Less(t, delivered, 2*n)

			// Before the leases run out the survivor gets only what the
			// victim did not hold.
			before, err := survivor.h.Engine.DeliverDue(ctx)
			require.NoError(t, err)
			clock.Advance(2*time.Minute + time.Second) // past DeliveryLease
			after, err := survivor.h.Engine.DeliverDue(ctx)
			require.NoError(t, err)
			require.Positive(t, after, "the victim's held deliveries come back")
			t.Logf("survivor delivered %d before and %d after the leases ran out", before, after)

			// Every callback acknowledged and seen; the victim's (recorded,
			// then lost acknowledgements) may have been seen twice.
			victim.h.Merchant = recorder
			checkOutcome(t, survivor.store, invs, survivor.h, victim.h)
		})
	}
}
