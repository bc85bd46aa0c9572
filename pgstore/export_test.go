package pgstore

// BenchSQL returns the SQL texts s issues, for the raw-pgx baselines of
// the benchmarks (which issue exactly the same statements).
func BenchSQL(s *Store) map[string]string {
	return map[string]string{
		"getInvoiceByForeign": s.sql.getInvoiceByForeign,
		"createInvoice":       s.sql.createInvoice,
		"updateInvoiceOutbox": s.sql.updateInvoiceOutbox,
		"claimDueInvoices":    s.sql.claimDueInvoices,
		"claimDeliveries":     s.sql.claimDeliveries,
		"ackDelivery":         s.sql.ackDelivery,
	}
}
