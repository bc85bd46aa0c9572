package pgstore_test

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	invoice "github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/storetest"
)

// TestConformance runs the invoice.Store conformance suite, each subtest
// on a fresh schema.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) invoice.Store { return newStore(t) })
}

// TestHostileEngine feeds an engine on PostgreSQL the hostile input of
// storetest.RunHostileEngine: the outcomes must be memstore's.
func TestHostileEngine(t *testing.T) {
	storetest.RunHostileEngine(t, func(t *testing.T) invoice.Store { return newStore(t) })
}

// TestConformanceExecModes runs the suite again in pgx's query execution
// modes that use no cached prepared statements (for PgBouncer in
// transaction pooling without prepared-statement support): exec and
// simple protocol.
func TestConformanceExecModes(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the conformance suite runs once, in the default mode")
	}
	shared := requireDB(t)
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeExec, pgx.QueryExecModeSimpleProtocol} {
		t.Run(mode.String(), func(t *testing.T) {
			cfg, err := pgxPoolConfig(databaseURL(), nil)
			require.NoError(t, err)
			cfg.ConnConfig.DefaultQueryExecMode = mode
			cfg.MaxConns = 8
			pool, err := newPool(cfg)
			require.NoError(t, err)
			t.Cleanup(pool.Close)
			storetest.Run(t, func(t *testing.T) invoice.Store {
				return newStoreOn(t, pool, freshSchema(t, shared))
			})
		})
	}
}
