package pgstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one embedded schema change, migrations/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("pgstore: bad migration file name %q", e.Name())
		}
		b, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("pgstore: migrations are not numbered 1, 2, …: %q", m.name)
		}
	}
	return ms, nil
}

// SchemaVersion is the schema version this package's migrations reach.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

// lockKey is the advisory lock key that serializes migrations of one
// schema across every process on the database.
func (s *Store) lockKey() int64 {
	h := fnv.New64a()
	h.Write([]byte("github.com/cryptoinvoice/invoice/pgstore\x00"))
	h.Write([]byte(s.schema))
	return int64(h.Sum64())
}

// Migrate creates the schema and its tables, or brings them up to
// SchemaVersion, applying the embedded migrations that the schema_version
// table does not list yet. It is idempotent and safe to call from several
// instances at once: all of it runs in one transaction that first takes a
// transaction-level advisory lock for the schema, so concurrent callers
// wait for each other and the later ones find nothing to do. A database
// migrated by a newer version of this package (a higher schema version)
// is left alone without error, so that instances of the older version keep
// running during a rolling deploy.
//
// On a WithTx view it runs inside the host's transaction (and holds the
// lock until that transaction ends).
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if s.inTx {
		u, _ := s.db.(uuidArgs)
		tx, ok := u.q.(pgx.Tx)
		if !ok {
			return errors.New("pgstore: migrate: view without a transaction")
		}
		return s.migrateIn(ctx, tx, ms)
	}
	return s.run(ctx, "migrate", func(ctx context.Context) error {
		return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return s.migrateIn(ctx, tx, ms) })
	})
}

func (s *Store) migrateIn(ctx context.Context, tx pgx.Tx, ms []migration) error {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", s.lockKey()); err != nil {
		return fmt.Errorf("pgstore: migrate: lock: %w", err)
	}
	setup := strings.ReplaceAll(`CREATE SCHEMA IF NOT EXISTS {schema};
CREATE TABLE IF NOT EXISTS {schema}.schema_version (
	version    integer     PRIMARY KEY,
	name       text        NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`, "{schema}", s.ident)
	if _, err := tx.Exec(ctx, setup); err != nil {
		return fmt.Errorf("pgstore: migrate: create schema %s: %w", s.ident, err)
	}
	var current int
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM "+s.ident+".schema_version").Scan(&current); err != nil {
		return fmt.Errorf("pgstore: migrate: read version: %w", err)
	}
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		if _, err := tx.Exec(ctx, strings.ReplaceAll(m.sql, "{schema}", s.ident)); err != nil {
			return fmt.Errorf("pgstore: migrate: %s: %w", m.name, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO "+s.ident+".schema_version (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
			return fmt.Errorf("pgstore: migrate: record %s: %w", m.name, err)
		}
	}
	return nil
}

// Version returns the schema version recorded in the database: 0 before
// the first Migrate.
func (s *Store) Version(ctx context.Context) (int, error) {
	var v int
	err := s.run(ctx, "schema version", func(ctx context.Context) error {
		var exists bool
		if err := s.db.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", s.ident+".schema_version").Scan(&exists); err != nil {
			return err
		}
		if !exists {
			v = 0
			return nil
		}
		return s.db.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM "+s.ident+".schema_version").Scan(&v)
	})
	return v, err
}
