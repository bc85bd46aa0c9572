package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	invoice "github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/pgstore"
)

func TestMigrateIdempotent(t *testing.T) {
	pool := requireDB(t)
	schema := freshSchema(t, pool)
	s, err := pgstore.New(pool, pgstore.WithSchema(schema))
	require.NoError(t, err)
	v, err := s.Version(bg())
	require.NoError(t, err)
	require.Equal(t, 0, v, "before Migrate")
	for range 3 {
		require.NoError(t, s.Migrate(bg()))
	}
	v, err = s.Version(bg())
	require.NoError(t, err)
	require.Equal(t, pgstore.SchemaVersion(), v)
	var rows int
	require.NoError(t, pool.QueryRow(bg(), "SELECT count(*) FROM "+pgx.Identifier{schema}.Sanitize()+".schema_version").Scan(&rows))
	require.Equal(t, pgstore.SchemaVersion(), rows, "each migration recorded once")
}

func TestMigrateConcurrent(t *testing.T) {
	pool := requireDB(t)
	schema := freshSchema(t, pool)
	const n = 5
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			// Each "instance" has its own pool, as separate processes would.
			p, err := connect(databaseURL(), 2)
			if err != nil {
				errs[i] = err
				return
			}
			defer p.Close()
			s, err := pgstore.New(p, pgstore.WithSchema(schema))
			if err != nil {
				errs[i] = err
				return
			}
			<-start
			errs[i] = s.Migrate(bg())
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "instance %d", i)
	}
	s := newStoreOn(t, pool, schema)
	v, err := s.Version(bg())
	require.NoError(t, err)
	require.Equal(t, pgstore.SchemaVersion(), v)
	require.NoError(t, s.CreateInvoice(bg(), newInvoice(t, "after-migrate")))
}

func TestMigrateLeavesNewerSchemaAlone(t *testing.T) {
	s := newStore(t)
	_, err := s.Pool().Exec(bg(), "INSERT INTO "+pgx.Identifier{s.Schema()}.Sanitize()+
		".schema_version (version, name) VALUES (1000, '1000_future.sql')")
	require.NoError(t, err)
	require.NoError(t, s.Migrate(bg()))
	v, err := s.Version(bg())
	require.NoError(t, err)
	require.Equal(t, 1000, v)
}

func TestWithTx(t *testing.T) {
	s := newStore(t)
	pool := s.Pool()

	// Rollback: nothing of it remains.
	tx, err := pool.Begin(bg())
	require.NoError(t, err)
	inv := newInvoice(t, "order-1")
	require.NoError(t, s.WithTx(tx).CreateInvoice(bg(), inv))
	got, err := s.WithTx(tx).GetInvoice(bg(), inv.ID)
	require.NoError(t, err, "visible inside the transaction")
	require.Equal(t, inv.Number, got.Number)
	_, err = s.GetInvoice(bg(), inv.ID)
	require.ErrorIs(t, err, invoice.ErrNotFound, "invisible outside before commit")
	require.NoError(t, tx.Rollback(bg()))
	_, err = s.GetInvoice(bg(), inv.ID)
	require.ErrorIs(t, err, invoice.ErrNotFound, "rolled back")

	// Commit: the host's row and the invoice both commit.
	_, err = pool.Exec(bg(), "CREATE TABLE "+pgx.Identifier{s.Schema()}.Sanitize()+".orders (id text PRIMARY KEY)")
	require.NoError(t, err)
	tx, err = pool.Begin(bg())
	require.NoError(t, err)
	_, err = tx.Exec(bg(), "INSERT INTO "+pgx.Identifier{s.Schema()}.Sanitize()+".orders VALUES ('order-1')")
	require.NoError(t, err)
	view := s.WithTx(tx)
	require.NoError(t, view.CreateInvoice(bg(), inv))

	// Expected failures do not abort the host's transaction.
	dup := newInvoice(t, "order-1")
	require.ErrorIs(t, view.CreateInvoice(bg(), dup), invoice.ErrDuplicate)
	stale := inv.Clone()
	stale.Version = 7
	require.ErrorIs(t, view.UpdateInvoice(bg(), stale, nil), invoice.ErrConflict)
	inv.Status = invoice.StatusPending
	d := newDelivery(t, inv, invoice.ChannelMerchant, 1, base)
	require.NoError(t, view.UpdateInvoice(bg(), inv, []*invoice.Delivery{d}))
	require.NoError(t, tx.Commit(bg()))

	got, err = s.GetInvoice(bg(), inv.ID)
	require.NoError(t, err)
	require.Equal(t, int64(2), got.Version)
	_, err = s.GetDelivery(bg(), d.ID)
	require.NoError(t, err)
	var orders int
	require.NoError(t, pool.QueryRow(bg(), "SELECT count(*) FROM "+pgx.Identifier{s.Schema()}.Sanitize()+".orders").Scan(&orders))
	require.Equal(t, 1, orders)
}

// TestSerializationRetry runs the store on connections whose transactions
// are SERIALIZABLE: concurrent updates of one invoice then fail with
// SQLSTATE 40001 instead of finding the new version. The store retries
// those, so every loser still gets ErrConflict; with retries off the 40001
// surfaces.
func TestSerializationRetry(t *testing.T) {
	requireDB(t)
	cfg, err := pgxPoolConfig(databaseURL(), func(c *pgconn.Config) {
		c.RuntimeParams["default_transaction_isolation"] = "serializable"
	})
	require.NoError(t, err)
	pool, err := newPool(cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	schema := freshSchema(t, requireDB(t))

	race := func(s *pgstore.Store) (wins, conflicts int, other []error) {
		inv := newInvoice(t, fmt.Sprint("ser-", time.Now().UnixNano()))
		require.NoError(t, s.CreateInvoice(bg(), inv))
		const n = 12
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				cp := inv.Clone()
				cp.Title = fmt.Sprint(i)
				<-start
				errs[i] = s.UpdateInvoice(bg(), cp, []*invoice.Delivery{newDelivery(t, cp, invoice.ChannelMerchant, 1, base)})
			})
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case errors.Is(err, invoice.ErrConflict):
				conflicts++
			default:
				other = append(other, err)
			}
		}
		return wins, conflicts, other
	}

	retrying := newStoreOn(t, pool, schema, pgstore.WithMaxRetries(20))
	for range 5 {
		wins, conflicts, other := race(retrying)
		require.Empty(t, other, "with retries every loser sees ErrConflict")
		require.Equal(t, 1, wins)
		require.Equal(t, 11, conflicts)
	}

	plain := newStoreOn(t, pool, schema, pgstore.WithMaxRetries(0))
	surfaced := 0
	for range 5 {
		wins, _, other := race(plain)
		require.Equal(t, 1, wins)
		for _, err := range other {
			var pgErr *pgconn.PgError
			require.True(t, errors.As(err, &pgErr), "unexpected error %v", err)
			require.Equal(t, "40001", pgErr.Code)
			surfaced++
		}
	}
	t.Logf("without retries %d serialization failures surfaced", surfaced)
}

// TestContextCancelledMidQuery checks that a query cut short by its
// context returns the context's error.
func TestContextCancelledMidQuery(t *testing.T) {
	s := newStore(t)
	tx, err := s.Pool().Begin(bg())
	require.NoError(t, err)
	defer tx.Rollback(bg())
	// Hold the invoice row so the update blocks until the deadline.
	inv := newInvoice(t, "blocked")
	require.NoError(t, s.CreateInvoice(bg(), inv))
	_, err = tx.Exec(bg(), "SELECT 1 FROM "+pgx.Identifier{s.Schema()}.Sanitize()+".invoices WHERE id = $1 FOR UPDATE", inv.ID)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(bg(), 100*time.Millisecond)
	defer cancel()
	err = s.UpdateInvoice(ctx, inv.Clone(), nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// TestMigrateInTx: Migrate on a WithTx view migrates inside the host's
// transaction (the view's querier is the transaction, wrapped): rolled
// back, nothing remains; committed, the schema is current.
func TestMigrateInTx(t *testing.T) {
	pool := requireDB(t)
	schema := freshSchema(t, pool)
	s, err := pgstore.New(pool, pgstore.WithSchema(schema))
	require.NoError(t, err)
	for _, commit := range []bool{false, true} {
		tx, err := pool.Begin(bg())
		require.NoError(t, err)
		require.NoError(t, s.WithTx(tx).Migrate(bg()))
		if !commit {
			require.NoError(t, tx.Rollback(bg()))
			var exists bool
			require.NoError(t, pool.QueryRow(bg(), "SELECT to_regclass($1) IS NOT NULL",
				pgx.Identifier{schema}.Sanitize()+".invoices").Scan(&exists))
			require.False(t, exists, "rolled back")
			continue
		}
		require.NoError(t, tx.Commit(bg()))
	}
	v, err := s.Version(bg())
	require.NoError(t, err)
	require.Equal(t, pgstore.SchemaVersion(), v)
	require.NoError(t, s.CreateInvoice(bg(), newInvoice(t, "after-migrate")))
}
