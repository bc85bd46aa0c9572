package pgstore_test

import (
	"regexp"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	invoice "github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/pgstore"
)

// TestUpgradeFromV1 migrates a schema of version 1 holding invoices to the
// current version: every old invoice gets a checkout token of the engine's
// shape, unique, and is found by it and by its deposit address.
func TestUpgradeFromV1(t *testing.T) {
	pool := requireDB(t)
	schema := freshSchema(t, pool)
	s, err := pgstore.New(pool, pgstore.WithSchema(schema))
	require.NoError(t, err)
	require.NoError(t, pgstore.MigrateTo(bg(), s, 1))
	v, err := s.Version(bg())
	require.NoError(t, err)
	require.Equal(t, 1, v)

	ident := pgx.Identifier{schema}.Sanitize()
	const n = 50
	_, err = pool.Exec(bg(), `INSERT INTO `+ident+`.invoices (id, foreign_id, type, payment_mode, amount,
		sender_amount, rate, deposit_address, status, version)
	SELECT gen_random_uuid(), 'old-' || i, 'timer_currency', 'fill_or_kill', 10, 0.001, 10000,
		'bc1qold' || i, 'pending', 1
	FROM generate_series(1, $1) i`, n)
	require.NoError(t, err)

	require.NoError(t, s.Migrate(bg()))
	v, err = s.Version(bg())
	require.NoError(t, err)
	require.Equal(t, pgstore.SchemaVersion(), v)

	invs, err := s.ListInvoices(bg(), invoice.ListQuery{Limit: 2 * n})
	require.NoError(t, err)
	require.Len(t, invs, n)
	shape := regexp.MustCompile(`^[A-Z2-7]{26}$`)
	seen := map[string]bool{}
	for _, inv := range invs {
		require.Regexp(t, shape, inv.CheckoutToken, "backfilled token of %s", inv.ForeignID)
		require.False(t, seen[inv.CheckoutToken], "tokens are unique")
		seen[inv.CheckoutToken] = true
		got, err := s.GetInvoiceByCheckoutToken(bg(), inv.CheckoutToken)
		require.NoError(t, err)
		require.Equal(t, inv.ID, got.ID)
		got, err = s.GetInvoiceByAddress(bg(), inv.Deposit.Address)
		require.NoError(t, err)
		require.Equal(t, inv.ID, got.ID)
	}
	seq, err := s.NextSequence(bg(), "after-upgrade")
	require.NoError(t, err)
	require.Zero(t, seq)
}
