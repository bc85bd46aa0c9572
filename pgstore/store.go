package pgstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	invoice "github.com/cryptoinvoice/invoice"
)

// DefaultSchema is the schema the tables live in unless WithSchema says
// otherwise.
const DefaultSchema = "invoice"

// DefaultMaxRetries is how many times an operation is retried after a
// serialization failure or deadlock unless WithMaxRetries says otherwise.
const DefaultMaxRetries = 5

// Store is an invoice.Store on PostgreSQL. Create one with New and call
// Migrate before first use. It is safe for concurrent use, and any number
// of Stores (in one process or many) may share one database: they share
// the work through row locks and leases.
type Store struct {
	pool       *pgxpool.Pool
	db         querier // pool, or the host's transaction in a WithTx view
	inTx       bool
	schema     string // the unquoted name
	ident      string // the quoted identifier
	maxRetries int
	sql        *statements
	stmts      *stmtCache // update statements by shape (update.go)
	seen       *seenCache // rows as last read, for updates of what changed
	logger     *slog.Logger
	stats      *setAsideStats
}

var _ invoice.Store = (*Store)(nil)

// querier is what *pgxpool.Pool and pgx.Tx have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Option configures New.
type Option func(*options)

type options struct {
	schema     string
	maxRetries int
	logger     *slog.Logger
}

// WithSchema makes the Store keep its tables in the named schema instead of
// DefaultSchema ("invoice"). The name is used as a quoted identifier, so
// it is case-sensitive; it must be 1–63 bytes without NUL. Migrate creates
// the schema when it does not exist.
func WithSchema(name string) Option {
	return func(o *options) { o.schema = name }
}

// WithMaxRetries sets how many times an operation is retried after a
// serialization failure (SQLSTATE 40001) or a deadlock (40P01) before the
// error is returned; 0 disables retries. Default DefaultMaxRetries.
// Operations of a WithTx view are never retried: the host's transaction is
// aborted and only the host can retry it.
func WithMaxRetries(n int) Option {
	return func(o *options) { o.maxRetries = n }
}

// New returns a Store on pool. It does not touch the database: call
// Migrate to create or upgrade the tables.
func New(pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	if pool == nil {
		return nil, errors.New("pgstore: nil pool")
	}
	o := options{schema: DefaultSchema, maxRetries: DefaultMaxRetries}
	for _, opt := range opts {
		opt(&o)
	}
	if err := validSchema(o.schema); err != nil {
		return nil, err
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.maxRetries < 0 {
		return nil, fmt.Errorf("pgstore: negative max retries %d", o.maxRetries)
	}
	ident := pgx.Identifier{o.schema}.Sanitize()
	return &Store{
		pool:       pool,
		db:         uuidArgs{pool},
		schema:     o.schema,
		ident:      ident,
		maxRetries: o.maxRetries,
		sql:        buildStatements(ident),
		stmts:      &stmtCache{},
		seen:       newSeenCache(),
		logger:     o.logger,
		stats:      new(setAsideStats),
	}, nil
}

func validSchema(name string) error {
	switch {
	case name == "":
		return errors.New("pgstore: empty schema name")
	case len(name) > 63:
		return fmt.Errorf("pgstore: schema name %q is longer than 63 bytes", name)
	case strings.ContainsRune(name, 0):
		return errors.New("pgstore: schema name contains NUL")
	}
	return nil
}

// Schema returns the name of the schema the Store's tables live in.
func (s *Store) Schema() string { return s.schema }

// Pool returns the pool the Store was created with.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// WithTx returns a view of the Store whose methods run inside tx, the
// host's own transaction: they neither commit nor roll back, so whatever
// they write commits or rolls back with the host's other changes. Use it
// to create an invoice together with the order it belongs to:
//
//	tx, _ := pool.Begin(ctx)
//	defer tx.Rollback(ctx)
//	// ... insert the order row ...
//	inv, err := engine.CreateIn(ctx, store.WithTx(tx), req)
//	// ...
//	err = tx.Commit(ctx)
//
// The view is valid until tx ends and is not safe for concurrent use (a
// pgx.Tx is not). Its operations are not retried after a serialization
// failure or deadlock: the error is returned and the host retries the
// whole transaction. Expected outcomes (a taken foreign_id, a version
// conflict, a lost lease) do not abort the transaction. Leases and claims
// taken through a view only hold once the transaction commits.
func (s *Store) WithTx(tx pgx.Tx) *Store {
	cp := *s
	cp.db = uuidArgs{tx}
	cp.inTx = true
	return &cp
}

// run executes op, retrying serialization failures and deadlocks up to
// maxRetries times (outside a host transaction), and maps errors: the
// context's error when ctx is done, wrapped otherwise.
func (s *Store) run(ctx context.Context, what string, op func(ctx context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		err := op(ctx)
		if err == nil {
			return nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if !s.inTx && attempt < s.maxRetries && retryable(err) {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return err
			}
			continue
		}
		return wrapErr(what, err)
	}
}

// retryable reports a serialization failure or a deadlock: the
// transaction was rolled back and may simply be run again.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	return false
}

// backoff is the wait before retry attempt+1: jittered, growing from about
// 1 ms, at most about 50 ms.
func backoff(attempt int) time.Duration {
	d := time.Millisecond << min(attempt, 5)
	d = min(d, 50*time.Millisecond)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// wrapErr adds the operation to err and maps unique violations of the
// foreign_id constraint to invoice.ErrDuplicate. Sentinel errors of the
// invoice package pass through wrapped.
func wrapErr(what string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "invoices_foreign_id_key" {
		return fmt.Errorf("pgstore: %s: %w (%s)", what, invoice.ErrDuplicate, pgErr.Message)
	}
	return fmt.Errorf("pgstore: %s: %w", what, err)
}
