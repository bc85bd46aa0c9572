// Package storetest is the conformance suite of invoice.Store: every Store
// implementation (memstore, a SQL store, a host's own) must pass it, in the
// manner of the database/sql driver test suites.
//
// Use it from the implementation's tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) invoice.Store { return mystore.New(...) })
//	}
//
// The suite checks the contract written on invoice.Store with exact
// assertions: version and number assignment, exact round-trips of every
// field (decimal exponents, UTC microsecond times, nil-versus-empty
// callback lists), copy semantics, optimistic concurrency under contention,
// paging, the deadline sweep claims and the ordered, leased outbox, and
// cancelled contexts. It uses fixed times (2026-01-02T03:04:05.123456Z and
// offsets from it) and deterministic IDs, never the wall clock, so a Store
// must take "now" only from its arguments.
//
// Where the contract is silent the suite enforces these readings:
//
//   - A refused CreateInvoice or UpdateInvoice leaves inv.Version and
//     inv.Number as they were.
//   - CreateInvoice indexes the new invoice's Deadline for the sweep, as
//     UpdateInvoice does.
//   - Leases end exactly at now+lease: a claim at that instant succeeds.
//     ClaimDueInvoices returns never-claimed invoices in deadline order;
//     among invoices whose sweep lease ran out the order is not checked.
//   - A delivery lease is lost only by a new claim or by settling; a Store
//     has no clock of its own, so acknowledging after LeaseUntil with an
//     unreplaced lease succeeds. RescheduleDelivery (dead or not) settles
//     the lease: the same lease ID then gets ErrLeaseLost.
//   - The lease fields of a delivery are checked only while it is held.
//   - ListAwaitingPayout lists an invoice created with a redeemed claim
//     as well as one updated to have one, and returns the stored invoice
//     whole.
//   - Callback.Transactions and Callback.Fees keep nil versus empty (their
//     JSON is null versus []); other empty slices may come back nil.
package storetest

import (
	"context"
	"testing"

	invoice "github.com/cryptoinvoice/invoice"
)

// Run runs the conformance suite as subtests of t. Every subtest calls
// newStore for a fresh, empty Store (newStore may register cleanups with
// the t it is given, and should fail it if the store cannot be built).
// Subtests run one after another, never in parallel with each other,
// though several use the store from many goroutines at once.
func Run(t *testing.T, newStore func(t *testing.T) invoice.Store) {
	t.Helper()
	for _, g := range groups() {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					s := newStore(t)
					if s == nil {
						t.Fatal("storetest: newStore returned nil")
					}
					c.fn(newFixture(t, s))
				})
			}
		})
	}
}

type testCase struct {
	name string
	fn   func(f *fixture)
}

type group struct {
	name  string
	cases []testCase
}

func groups() []group {
	return []group{
		{"CreateInvoice", createCases()},
		{"RoundTrip", roundTripCases()},
		{"UpdateInvoice", updateCases()},
		{"ListInvoices", listCases()},
		{"Lookups", lookupCases()},
		{"NextSequence", sequenceCases()},
		{"ClaimDueInvoices", sweepCases()},
		{"Outbox", outboxCases()},
		{"UpdateInvoices", updateBatchCases()},
		{"SettleDeliveries", settleCases()},
		{"HostileInput", hostileCases()},
		{"ListAwaitingPayout", payoutCases()},
		{"CancelledContext", []testCase{{"EveryMethod", testCancelledContext}}},
	}
}

// ctx is the live context of the suite's calls.
func ctx() context.Context { return context.Background() }
