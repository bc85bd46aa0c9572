// Package river_test measures pgstore's outbox beside River
// (github.com/riverqueue/river), a PostgreSQL job queue, on the same
// database in the same run. It is a nested module so that the library's
// users never download River: it is a benchmark-only dependency.
//
//	cd bench/river && go test -run XXX -bench . -benchtime 6x -v
package river_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	invoice "github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/pgstore"
)

func databaseURL() string {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// callbackJSON is a typical merchant callback: the payload of both the
// pgstore deliveries and the River jobs, so both move the same bytes.
const callbackJSON = `{"id":1,"foreign_id":"x","type":"invoice","crypto_address":{"id":1,"currency":"BTC","address":"bc1qexampleexampleexampleexample","tag":""},"currency_sent":{"currency":"BTC","amount":"0.00166667","remaining_amount":"0"},"currency_received":{"currency":"EUR","amount":"100"},"transactions":[],"fees":[],"error":"","status":"failed","fixed_at":0,"expires_at":0}`

// callbackArgs is the River job: a callback to deliver.
type callbackArgs struct {
	Callback string `json:"callback"`
}

func (callbackArgs) Kind() string { return "callback" }

// noopWorker completes every job at once, as the no-op notifier does.
type noopWorker struct {
	river.WorkerDefaults[callbackArgs]
}

func (noopWorker) Work(context.Context, *river.Job[callbackArgs]) error { return nil }

func newPool(b *testing.B) *pgxpool.Pool {
	b.Helper()
	cfg, err := pgxpool.ParseConfig(databaseURL())
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = 16
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err == nil {
		err = pool.Ping(context.Background())
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			b.Fatalf("PostgreSQL at %s: %v", databaseURL(), err)
		}
		b.Skipf("PostgreSQL at %s is not reachable (%v); start it or set DATABASE_URL", databaseURL(), err)
	}
	b.Cleanup(pool.Close)
	return pool
}

// schema returns a fresh schema name, dropped after the benchmark.
func schema(b *testing.B, pool *pgxpool.Pool, prefix string) string {
	b.Helper()
	var r [5]byte
	_, _ = rand.Read(r[:])
	name := prefix + hex.EncodeToString(r[:])
	b.Cleanup(func() {
		if _, err := pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+name+" CASCADE"); err != nil {
			b.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// loadavg returns the 1-minute load average of the machine.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// BenchmarkDeliverVsRiver delivers n callbacks through pgstore (one
// engine's DeliverDue, default DeliveryBatch 100 and DeliveryConcurrency
// 16, to a no-op notifier) and completes n no-op River jobs (one client,
// MaxWorkers 100, FetchCooldown 1 ms, measured until the n-th
// JobCompleted event, which River sends after the completion is
// committed), alternately, once each per iteration. Both start with all n
// due. It reports the median rate of each over the iterations and the
// median of the per-iteration ratios pgstore/river.
func BenchmarkDeliverVsRiver(b *testing.B) {
	const n = 5000
	ctx := context.Background()
	pool := newPool(b)

	// River in its own schema.
	riverSchema := schema(b, pool, "river_bench_")
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+riverSchema); err != nil {
		b.Fatal(err)
	}
	driver := riverpgxv5.New(pool)
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Schema: riverSchema})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		b.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, noopWorker{})
	newClient := func() *river.Client[pgx.Tx] {
		c, err := river.NewClient(driver, &river.Config{
			Schema:            riverSchema,
			Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 100}},
			Workers:           workers,
			FetchCooldown:     time.Millisecond,
			FetchPollInterval: 50 * time.Millisecond,
		})
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	inserter := newClient()
	params := make([]river.InsertManyParams, n)
	for i := range params {
		params[i] = river.InsertManyParams{Args: callbackArgs{Callback: callbackJSON}}
	}

	// pgstore in its own schema, with an engine on the system clock.
	store, err := pgstore.New(pool, pgstore.WithSchema(schema(b, pool, "pgstore_bench_")))
	if err != nil {
		b.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	noop := invoice.NotifierFunc(func(context.Context, *invoice.Delivery) error { return nil })
	h := invoicetest.New(b, func(c *invoice.Config) {
		c.Store, c.Clock, c.NewID, c.Notifier = store, invoice.SystemClock{}, nil, noop
	})
	ident := pgx.Identifier{store.Schema()}.Sanitize()
	prefill := func(round int) {
		// n invoices with one due callback each (independent queues, as
		// River's independent jobs).
		if _, err := pool.Exec(ctx, `INSERT INTO `+ident+`.invoices (id, foreign_id, type, payment_mode, amount,
			sender_amount, rate, status, version)
			SELECT gen_random_uuid(), $1 || g, 'timer', 'fill_or_kill', 100, 0, 0, 'failed', 2
			FROM generate_series(1, $2::int) g`, fmt.Sprintf("r%d-", round), n); err != nil {
			b.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO `+ident+`.deliveries (id, invoice_id, channel, seq, callback, state,
			created_at, next_attempt_at, ready_at)
			SELECT gen_random_uuid(), i.id, 'merchant', 2048, $2::jsonb, 'pending', now(), now() - interval '1 s', now() - interval '1 s'
			FROM `+ident+`.invoices i WHERE i.foreign_id LIKE $1 || '%'`, fmt.Sprintf("r%d-", round), callbackJSON); err != nil {
			b.Fatal(err)
		}
		if _, err := pool.Exec(ctx, "ANALYZE "+ident+".deliveries"); err != nil {
			b.Fatal(err)
		}
	}
	runPgstore := func() time.Duration {
		start := time.Now()
		got, err := h.Engine.DeliverDue(ctx)
		if err != nil || got != n {
			b.Fatalf("pgstore delivered %d of %d: %v", got, n, err)
		}
		return time.Since(start)
	}
	runRiver := func() time.Duration {
		if _, err := inserter.InsertManyFast(ctx, params); err != nil {
			b.Fatal(err)
		}
		c := newClient()
		// A buffer for every event: River drops the events that overflow a
		// subscription's buffer (1,000 by default), and on a quiet machine
		// its completions arrive in bursts faster than this loop reads.
		events, cancel := c.SubscribeConfig(&river.SubscribeConfig{Kinds: []river.EventKind{river.EventKindJobCompleted}, ChanSize: n})
		defer cancel()
		var done atomic.Int64
		start := time.Now()
		if err := c.Start(ctx); err != nil {
			b.Fatal(err)
		}
		timeout := time.After(2 * time.Minute)
		for done.Load() < n {
			select {
			case <-events:
				done.Add(1)
			case <-timeout:
				b.Fatalf("river completed %d of %d", done.Load(), n)
			}
		}
		d := time.Since(start)
		if err := c.Stop(ctx); err != nil {
			b.Fatal(err)
		}
		return d
	}

	var pg, rv, ratio []float64
	b.Logf("load average before: %s", loadavg())
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		prefill(i)
		b.StartTimer()
		var tp, tr time.Duration
		if i%2 == 0 {
			tp = runPgstore()
			tr = runRiver()
		} else {
			tr = runRiver()
			tp = runPgstore()
		}
		p, r := n/tp.Seconds(), n/tr.Seconds()
		pg, rv, ratio = append(pg, p), append(rv, r), append(ratio, p/r)
		b.Logf("round %d: pgstore %.0f /s, river %.0f /s, ratio %.2f, load %s", i, p, r, p/r, loadavg())
	}
	b.StopTimer()
	b.ReportMetric(median(pg), "pgstore-deliveries/s")
	b.ReportMetric(median(rv), "river-jobs/s")
	b.ReportMetric(median(ratio), "pgstore/river")
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
