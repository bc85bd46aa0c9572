package pgstore

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// BenchSQL returns the SQL texts s issues, for the raw-pgx baselines of
// the benchmarks (which issue exactly the same statements).
func BenchSQL(s *Store) map[string]string {
	return map[string]string{
		"getInvoiceByForeign": s.sql.getInvoiceByForeign,
		"createInvoice":       s.sql.createInvoice,
		"claimDueInvoices":    s.sql.claimDueInvoices,
		"claimDeliveries":     s.sql.claimDeliveries,
		"ackDelivery":         s.sql.ackDelivery,
	}
}

// MigrateTo applies the embedded migrations up to version only, as an older
// release would have: upgrade tests start from it.
func MigrateTo(ctx context.Context, s *Store, version int) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	ms = ms[:min(version, len(ms))]
	return s.run(ctx, "migrate", func(ctx context.Context) error {
		return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return s.migrateIn(ctx, tx, ms) })
	})
}

// SetAsideSQL returns the two listing statements of SetAside (invoices,
// deliveries), for the plan test.
func SetAsideSQL(s *Store) (invoices, deliveries string) {
	return s.sql.listSetAsideInvoices, s.sql.listSetAsideDeliveries
}
