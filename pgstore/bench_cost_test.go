package pgstore_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	invoice "github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
)

// countConn counts the bytes a connection sends and receives.
type countConn struct {
	net.Conn
	in, out *atomic.Int64
}

func (c countConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.in.Add(int64(n))
	return n, err
}

func (c countConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.out.Add(int64(n))
	return n, err
}

// pgCPU is the CPU time (ns, from /proc/PID/schedstat) of every postgres
// process on the machine: the backends and the WAL writer, checkpointer
// and so on.
func pgCPU() int64 {
	var total int64
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		comm, err := os.ReadFile(d + "/comm")
		if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		b, err := os.ReadFile(d + "/schedstat")
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) > 0 {
			n, _ := strconv.ParseInt(f[0], 10, 64)
			total += n
		}
	}
	return total
}

// selfCPU is this process's user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// costConn is one side's connections: a pool of a fixed size, its bytes
// counted, its backends known.
type costConn struct {
	pool    *pgxpool.Pool
	in, out atomic.Int64
	pids    []int // its backends
}

func newCostConn(b *testing.B, conns int32) *costConn {
	c := new(costConn)
	cfg, err := pgxpool.ParseConfig(databaseURL())
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns, cfg.MinConns = conns, conns
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countConn{Conn: nc, in: &c.in, out: &c.out}, nil
	}
	if c.pool, err = newPool(cfg); err != nil {
		unavailable(b, err)
	}
	b.Cleanup(c.pool.Close)
	var held []*pgxpool.Conn
	for range conns {
		conn, err := c.pool.Acquire(bg())
		if err != nil {
			b.Fatal(err)
		}
		held = append(held, conn)
		var pid int
		if err := conn.QueryRow(bg(), "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			b.Fatal(err)
		}
		c.pids = append(c.pids, pid)
	}
	for _, conn := range held {
		conn.Release()
	}
	return c
}

// cpu is the CPU time (ns) of the side's backends.
func (c *costConn) cpu() int64 {
	var n int64
	for _, pid := range c.pids {
		n += schedNS(pid)
	}
	return n
}

func schedNS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/schedstat")
	if err != nil {
		return 0
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		n, _ := strconv.ParseInt(f[0], 10, 64)
		return n
	}
	return 0
}

// BenchmarkTransitionCost breaks one transition down into what it costs,
// for the engine and its baselines, each on one worker and its own
// connection (one backend): the client's CPU (the whole process, while
// that side runs), its backend's CPU, all other postgres processes' CPU
// (WAL writer, checkpointer, …), WAL bytes and bytes on the wire each way,
// per operation. The sides run in alternating chunks, b.N rounds. It
// explains BenchmarkTransition; it is not a target itself.
func BenchmarkTransitionCost(b *testing.B) {
	for _, w := range []int{1, 8} {
		b.Run("workers="+strconv.Itoa(w), func(b *testing.B) { transitionCost(b, w) })
	}
}

func transitionCost(b *testing.B, workers int) {
	shared := requireDB(b)
	schema := freshSchema(b, shared)
	ce, cb, cw := newCostConn(b, int32(workers)), newCostConn(b, int32(workers)), newCostConn(b, int32(workers))
	s := newStoreOn(b, ce.pool, schema)
	sw := newStoreOn(b, cw.pool, schema)
	clock := invoicetest.NewClock(invoicetest.Epoch)
	h := invoicetest.New(b, func(c *invoice.Config) { c.Store = s; c.Clock = invoice.SystemClock{}; c.NewID = uuid.NewV7 }) // as BenchmarkTransition
	f := &benchFixture{pool: shared, store: s, schema: pgx.Identifier{s.Schema()}.Sanitize(), h: h, clock: clock}
	base := newBaseline(&benchFixture{pool: cb.pool, schema: f.schema})
	wide := newBaseline(&benchFixture{pool: cw.pool, schema: f.schema})

	if os.Getenv("COST_PIDS") != "" {
		fmt.Fprintf(os.Stderr, "pids engine=%v baseline=%v wide=%v\n", ce.pids, cb.pids, cw.pids)
	}
	chunk := 250 * workers
	sides := []struct {
		name string
		c    *costConn
		op   func(string) error
	}{
		{"engine", ce, func(id string) error { _, err := h.Engine.Cancel(bg(), id); return err }},
		{"baseline", cb, func(id string) error { return base.cancel(bg(), id) }},
		{"wide-read baseline", cw, func(id string) error { return wide.cancelWide(bg(), sw, id) }},
	}
	type acc struct {
		n                                  int64
		client, backend, others, wal, i, o int64
		allocs, bytes                      int64
		wall                               time.Duration
	}
	accs := make([]acc, len(sides))
	walLSN := func() int64 {
		var v int64
		if err := shared.QueryRow(bg(), "SELECT pg_current_wal_insert_lsn() - '0/0'").Scan(&v); err != nil {
			b.Fatal(err)
		}
		return v
	}
	for round := range b.N {
		ids := f.prefill(b, chunk*len(sides))
		if _, err := shared.Exec(bg(), "VACUUM ANALYZE "+f.schema+".invoices"); err != nil {
			b.Fatal(err)
		}
		for j := range sides {
			k := (j + round) % len(sides) // each side first in turn
			side := sides[k]
			w0 := walLSN()
			p0, b0, i0, o0 := pgCPU(), side.c.cpu(), side.c.in.Load(), side.c.out.Load()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			c0, t0 := selfCPU(), time.Now()
			var next atomic.Int64
			var wg sync.WaitGroup
			for range workers {
				wg.Go(func() {
					for {
						j := int(next.Add(1)) - 1
						if j >= chunk {
							return
						}
						if err := side.op(ids[k*chunk+j]); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			c1, t1 := selfCPU(), time.Now()
			runtime.ReadMemStats(&m1)
			p1, b1, i1, o1 := pgCPU(), side.c.cpu(), side.c.in.Load(), side.c.out.Load()
			a := &accs[k]
			a.n += int64(chunk)
			a.allocs += int64(m1.Mallocs - m0.Mallocs)
			a.bytes += int64(m1.TotalAlloc - m0.TotalAlloc)
			a.wall += t1.Sub(t0)
			a.client += int64(c1 - c0)
			a.backend += b1 - b0
			a.others += (p1 - p0) - (b1 - b0)
			a.wal += walLSN() - w0
			a.i += i1 - i0
			a.o += o1 - o0
		}
	}
	us := func(ns int64, n int64) float64 { return float64(ns) / 1e3 / float64(n) }
	b.Logf("%d workers, each side on its own %d connections", workers, workers)
	for k, side := range sides {
		a := accs[k]
		n := a.n
		b.Logf("%-18s per op: wall %5.1f µs, CPU: client %4.0f µs, backend %4.0f µs, other postgres %4.0f µs; WAL %5d B, sent %4d B, received %4d B; %d allocations, %d B",
			side.name, us(int64(a.wall), n), us(a.client, n), us(a.backend, n), us(a.others, n), a.wal/n, a.o/n, a.i/n, a.allocs/n, a.bytes/n)
	}
	var hot, upd int64
	if err := shared.QueryRow(bg(), "SELECT n_tup_hot_upd, n_tup_upd FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'invoices'",
		s.Schema()).Scan(&hot, &upd); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d ops per side; invoices: %d updates, %d HOT; load %s", accs[0].n, upd, hot, loadavg())
}

// cancelWide is the baseline's cancel with the read of the whole invoice
// through the Store (GetInvoiceByForeignID, 31 columns decoded).
func (p *baseline) cancelWide(ctx context.Context, s interface {
	GetInvoiceByForeignID(context.Context, string) (*invoice.Invoice, error)
}, foreignID string) error {
	inv, err := s.GetInvoiceByForeignID(ctx, foreignID)
	if err != nil {
		return err
	}
	r := baseRow{id: inv.ID, number: inv.Number, version: inv.Version, fid: inv.ForeignID, addr: inv.Deposit.Address,
		tag: inv.Deposit.Tag, cur: inv.Currency, amount: inv.Amount.String(), scur: inv.SenderCurrency,
		samount: inv.SenderAmount.String()}
	if !inv.FixedAt.IsZero() {
		r.fixedAt = &inv.FixedAt
	}
	if !inv.ExpiresAt.IsZero() {
		r.expiresAt = &inv.ExpiresAt
	}
	return p.write(ctx, r, inv.Status.String(), foreignID)
}
