// Package invoice is an embeddable invoice engine for crypto payments.
//
// A merchant's Go service creates invoices, lets customers pay in the crypto
// currency of their choice, and learns through durable callbacks whether
// each invoice was paid. The engine is a pure-Go state machine behind small
// interfaces the host wires in: a Store (memstore for one process, pgstore
// for PostgreSQL and several instances), a RateSource, an AddressSource for
// deposit addresses, a Clock, a Notifier for merchant callbacks (package
// webhook POSTs them signed) and a CustomerNotifier for refund claims.
//
// # Invoice types and statuses
//
// The create request decides the Type (see TypeOf): TypeNoTimer fixes the
// rate when the customer confirms a currency, TypeTimer fixes a quote table
// at creation, TypeTimerCurrency fixes one rate at creation. Invoices move
// through created → pending → processing → confirmed, or to failed with one
// of the Reason* texts. Every allowed move is one entry of the transition
// table (see Transition); a refused one returns a *TransitionError matching
// ErrInvalidState, and changes nothing.
//
// # Decisions where the specification is silent
//
//   - Creating an invoice sends no callback; the returned Invoice is the
//     merchant's confirmation. Every later status change and every
//     installment part sends one.
//   - Create is idempotent for an identical retry of the same foreign_id;
//     a different request with a taken foreign_id is a ValidationError.
//   - Overdue deadlines are applied by the next operation on the invoice as
//     well as by Sweep, so outcomes never depend on when the sweep ran: a
//     payment reported after the window closed is a late payment.
//   - Refund claims are created for confirmed money only. Transactions still
//     confirming when an invoice fails are refunded when they confirm; a
//     cancelled (double-spent) transaction is never refunded.
//   - A transaction that does not count toward the invoice (late, or in
//     another currency) is recorded, produces one callback with the
//     unchanged status, and is refunded in full once confirmed.
//   - A claim token is "rc_" + the claim's location + 130 random bits; only
//     its SHA-256 is stored. Tokens that are unknown, forged or already
//     redeemed all fail alike with ErrRefundClaim.
//   - Callback amounts carry at least 8 fraction digits, and more when the
//     currency needs them (ETH has 18): no amount is rounded on the wire.
//   - A transaction's numeric callback id is the invoice Number × 1,000,000
//     plus its position on the invoice.
//   - Deliveries are ordered per invoice and channel (merchant callbacks,
//     customer notices). A dead delivery no longer blocks later ones; it
//     stays listed (Engine.DeadDeliveries) until Engine.Redeliver.
//
// # Time
//
// All time comes from Config.Clock and is kept in UTC with microsecond
// precision. Deadlines are stored on the invoice, so a restarted engine (or
// another instance on the same store) fails every overdue invoice on its
// next Sweep; package invoicetest has a settable clock for tests.
//
// # Money
//
// Every amount is a decimal.Decimal. Payment amounts are rounded up to the
// payment currency's precision (see PaymentAmount), so the merchant never
// receives less than asked.
package invoice
