package pgstore

// AwaitingPayoutSQL returns the statement of ListAwaitingPayout, for the
// test that checks its plan.
func AwaitingPayoutSQL(s *Store) string { return s.sql.listAwaitingPayout }
