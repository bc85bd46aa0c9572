package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	invoice "github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/pgstore"
)

// defaultDatabaseURL is the database the tests use when DATABASE_URL is
// not set.
const defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func databaseURL() string {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u
	}
	return defaultDatabaseURL
}

var (
	sharedOnce sync.Once
	sharedPool *pgxpool.Pool
	sharedErr  error
)

// skippedForDB counts the tests skipped because PostgreSQL is unreachable.
var skippedForDB atomic.Int64

// TestMain closes the shared pool after the tests, and says in one line
// how many tests were skipped for want of PostgreSQL.
func TestMain(m *testing.M) {
	code := m.Run()
	if sharedPool != nil {
		sharedPool.Close()
	}
	if n := skippedForDB.Load(); n > 0 {
		line := fmt.Sprintf("pgstore: %d tests skipped: PostgreSQL at %s is not reachable (set DATABASE_URL; CI=true makes this a failure)\n",
			n, redactedDatabaseURL())
		fmt.Fprint(os.Stderr, line)
		// go test shows a passing package's output only with -v: say it on
		// the terminal too, when there is one.
		if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
			fmt.Fprint(tty, line)
			tty.Close()
		}
	}
	os.Exit(code)
}

// redactedDatabaseURL is databaseURL without its password or query values.
func redactedDatabaseURL() string { return invoice.RedactURL(databaseURL()) }

// requireDB returns the shared pool, or skips the test (fails it when
// CI=true) when PostgreSQL cannot be reached.
func requireDB(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	sharedOnce.Do(func() {
		sharedPool, sharedErr = connect(databaseURL(), 16)
	})
	if sharedErr != nil {
		unavailable(tb, sharedErr)
	}
	return sharedPool
}

// connect opens a pool and checks that the database answers.
func connect(url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxPoolConfig(url, nil)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = maxConns
	return newPool(cfg)
}

// pgxPoolConfig parses url and lets change adjust the connection settings.
func pgxPoolConfig(url string, change func(*pgconn.Config)) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	if change != nil {
		change(&cfg.ConnConfig.Config)
	}
	return cfg, nil
}

// newPool opens a pool and checks that the database answers.
func newPool(cfg *pgxpool.Config) (*pgxpool.Pool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

func unavailable(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("pgstore: PostgreSQL at %s is not reachable (CI=true, so this fails): %v", redactedDatabaseURL(), err)
	}
	skippedForDB.Add(1)
	tb.Skipf("PostgreSQL at %s not reachable (%v): start it or set DATABASE_URL; CI=true fails instead",
		redactedDatabaseURL(), err)
}

// freshSchema returns a random schema name that is dropped (with
// everything in it) when the test ends.
func freshSchema(tb testing.TB, pool *pgxpool.Pool) string {
	tb.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	name := "pgstore_test_" + hex.EncodeToString(b[:])
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// newStore returns a migrated Store in a fresh schema on the shared pool.
func newStore(tb testing.TB, opts ...pgstore.Option) *pgstore.Store {
	tb.Helper()
	pool := requireDB(tb)
	return newStoreOn(tb, pool, freshSchema(tb, pool), opts...)
}

// newStoreOn returns a migrated Store on pool in the given schema.
func newStoreOn(tb testing.TB, pool *pgxpool.Pool, schema string, opts ...pgstore.Option) *pgstore.Store {
	tb.Helper()
	s, err := pgstore.New(pool, append([]pgstore.Option{pgstore.WithSchema(schema)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return s
}
