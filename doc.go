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
//   - Callback amounts carry at least 8 fraction digits, and more when the
//     currency needs them (ETH has 18): no amount is rounded on the wire.
//   - A transaction's numeric callback id is the invoice Number × 1,000,000
//     plus its position on the invoice.
//   - Deliveries are ordered per invoice and channel (merchant callbacks,
//     customer notices). A dead delivery no longer blocks later ones; it
//     stays listed (Engine.DeadDeliveries) until Engine.Redeliver.
//
// # Refund claims
//
// A refund claim is created in the same store operation as what caused it
// (overpayment, underpayment, cancel, compliance flag, a late or
// wrong-currency payment), with a customer notice on the outbox. The flow:
//
//  1. The engine hands the notice to the CustomerNotifier with the claim's
//     token, which goes into the link the customer gets (an e-mail).
//  2. The claim page calls LookupRefundClaim(token) to show the amount,
//     currency, reason, status and the invoice's title, and
//     CheckRefundDestination to check the address the customer types
//     (Config.DestinationValidators plug in per-currency rules).
//  3. RedeemRefundClaim(token, address) redeems it once. In the same store
//     operation the claim becomes awaiting payout and, with
//     Config.PayoutNotifier set, a RefundPayout (claim, invoice, amount,
//     currency, destination) is put on the outbox for the merchant's
//     payout system: its own channel, ChannelPayout, delivered and retried
//     like callbacks.
//  4. The payout system pays what RefundClaimsAwaitingPayout lists (or
//     what it was notified of) and calls MarkRefundClaimPaid with its
//     payout reference; the same reference again is a no-op, another one
//     is refused.
//
// Tokens are "rc2_" + base64url of the invoice ID, the claim ID and a
// 128-bit HMAC-SHA256 tag under Config.RefundTokenKeys[0]: fixed length,
// parsed by position. Every token that redeems nothing (malformed,
// unknown, forged, made under a key no longer configured, another
// invoice's) gets ErrRefundClaim itself, one value and one text, after
// the same work: the tag is compared in constant time under every key
// before the store is read, so neither the answer nor its timing tells
// whether an invoice or claim exists. A genuine token of a claim already
// redeemed or paid gets ErrRefundClaimRedeemed. (A token of the first
// format, see below, is checked against its claim's stored hash, so the
// store is read for it first; its answer is the same ErrRefundClaim.)
//
// # Threat model of refund tokens
//
// A refund token is a bearer secret: whoever holds it chooses where the
// customer's money goes. The engine therefore keeps no token anywhere a
// token could be read back later:
//
//   - Stores hold the claim and its notice without the token: a copy of
//     the database or a backup, read access to it, or the back office
//     (Engine.Deliveries, Get, List, every other method) yields no token
//     and nothing from which one can be computed. The notice's token is
//     derived again from the key on every delivery attempt.
//   - The engine logs no token, and cuts a token out of the text of a
//     CustomerNotifier's error (or panic) before it logs it or stores it
//     in the attempt log. It cannot see through encodings: a notifier
//     should not put the token in its errors at all.
//   - The keys are the only secret. They come from Config, not from the
//     store: keep them in the secret store the engines' configuration comes
//     from, give every engine sharing a store the same keys, and never keep
//     them next to the database. Whoever has a key and read access to the
//     store can make every open claim's token; whoever has only the store
//     cannot. There is no default key: New refuses a Config without one,
//     because a generated key would differ between engines and restarts
//     and silently break every link sent before.
//   - Rotation: put a new key first; tokens made under the old keys keep
//     redeeming while those keys stay in the list. Removing a key voids the
//     links made under it (their claims stay, open; nothing is lost).
//   - Outside the engine's reach: the customer's mailbox and the link
//     itself (serve the claim page over HTTPS, keep the token out of access
//     logs and Referer headers, e.g. with Referrer-Policy: no-referrer), the
//     CustomerNotifier's own logs, and the payout system, which is trusted
//     to pay the destination of a RefundPayout.
//   - Claims made before tokens were derived (pgstore schema 2 and older)
//     keep the SHA-256 of their random token, so links already sent still
//     redeem; pgstore's migration 0003 deletes those tokens from stored
//     notices and attempt logs. Backups taken before that migration still
//     hold them.
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
