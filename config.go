package invoice

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// AddressSource hands out deposit addresses (the host's wallet or
// custody service). It is called when an invoice's payment currency
// becomes known, outside any store operation; if the store operation then
// loses a race the address is not used, so the source may be called again
// for the same invoice and currency and should then return the same
// address or tolerate the waste.
type AddressSource interface {
	DepositAddress(ctx context.Context, inv *Invoice, currency string) (Address, error)
}

// AddressSourceFunc adapts a function to AddressSource.
type AddressSourceFunc func(ctx context.Context, inv *Invoice, currency string) (Address, error)

// DepositAddress calls f.
func (f AddressSourceFunc) DepositAddress(ctx context.Context, inv *Invoice, currency string) (Address, error) {
	return f(ctx, inv, currency)
}

// Currency describes one currency of the currency table.
type Currency struct {
	Code string // e.g. "BTC"
	// Precision is the number of fraction digits (EUR 2, BTC 8, ETH 18).
	Precision int32
	// Crypto currencies can be paid on chain; fiat ones are only invoice
	// currencies.
	Crypto bool
	// MempoolVisible is true when unconfirmed transactions are seen (BTC,
	// BCH): entering processing then extends the deadline to the
	// processing window. Otherwise the payment window stays.
	MempoolVisible bool
	// MinAmount is the smallest invoice amount in this currency; zero
	// means no minimum.
	MinAmount decimal.Decimal
}

// DefaultCurrencies returns the default currency table: EUR, USD (2),
// BTC, BCH, LTC (8, mempool visible), ETH (18) and USDTE (6: Tether USD
// as an ERC-20 token on Ethereum, so no visible mempool). The network is
// part of the code, as CoinsPaid names them: USDTE is ERC-20 USDT, USDTT
// would be TRC-20 USDT on Tron; the two are different assets on different
// chains and must never be confused.
func DefaultCurrencies() []Currency {
	return []Currency{
		{Code: "EUR", Precision: 2},
		{Code: "USD", Precision: 2},
		{Code: "BTC", Precision: 8, Crypto: true, MempoolVisible: true},
		{Code: "BCH", Precision: 8, Crypto: true, MempoolVisible: true},
		{Code: "LTC", Precision: 8, Crypto: true, MempoolVisible: true},
		{Code: "ETH", Precision: 18, Crypto: true},
		{Code: "USDTE", Precision: 6, Crypto: true},
	}
}

// DefaultRetrySchedule is the wait before each retry of a failed delivery:
// +1, +5, +15, +30, +60, +90, +120, +180, +240, +240, +240, +240 minutes.
func DefaultRetrySchedule() []time.Duration {
	m := []int{1, 5, 15, 30, 60, 90, 120, 180, 240, 240, 240, 240}
	s := make([]time.Duration, len(m))
	for i, v := range m {
		s[i] = time.Duration(v) * time.Minute
	}
	return s
}

// DestinationValidator checks a refund destination address for one
// currency; a non-nil error rejects it (the engine reports it as a
// *ValidationError on field "address", with the error's text in the
// message, so it should say what is wrong in words a customer
// understands). It is called with the address trimmed of surrounding
// white space, and only for addresses that passed the default check (see
// Config.DestinationValidators).
type DestinationValidator func(address string) error

// Config configures an Engine. Store, Rates, Addresses, Notifier,
// CustomerNotifier and RefundTokenKeys are required; every other zero
// value means the documented default.
type Config struct {
	Store            Store            // required: where invoices and the outbox live
	Rates            RateSource       // required
	Addresses        AddressSource    // required: deposit addresses
	Notifier         Notifier         // required: merchant callbacks
	CustomerNotifier CustomerNotifier // required: refund-claim notices to customers

	// RefundTokenKeys are the secret keys refund claim tokens are derived
	// with (HMAC-SHA256 over the claim's ID): the first makes new tokens,
	// every one verifies, so a key is rotated by putting a new one first
	// and keeping the old one for as long as its tokens should redeem.
	// Required, each at least MinRefundTokenKeyLen bytes: there is no safe
	// default, because every engine sharing the store must use the same
	// keys and the keys must not be kept in the store (a copy of the
	// database must not be enough to redeem a claim). See
	// NewRefundTokenKey and the package documentation's threat model.
	RefundTokenKeys [][]byte
	// DestinationValidators check refund destination addresses, by
	// currency code. Every address first passes the default check:
	// non-empty after trimming white space, at most 255 bytes of valid
	// UTF-8, printable, without white space or control characters. A
	// currency without a validator gets only that check.
	DestinationValidators map[string]DestinationValidator
	// PayoutNotifier, when set, is told of every redeemed refund claim
	// through the outbox (ChannelPayout: durable, ordered per invoice,
	// retried like callbacks). When nil no such records are made; the
	// payout system then polls Engine.RefundClaimsAwaitingPayout, which
	// lists the same claims either way.
	PayoutNotifier PayoutNotifier

	// CheckoutBaseURL is where the host serves the customer's checkout
	// page (package checkout), e.g. "https://pay.example.com/i": an
	// invoice's link is CheckoutBaseURL + "/" + its CheckoutToken (see
	// Engine.CheckoutURL). Default "": no links. Must be an absolute http(s)
	// URL without query or fragment.
	CheckoutBaseURL string
	// Clock defaults to SystemClock.
	Clock Clock
	// Currencies defaults to DefaultCurrencies().
	Currencies []Currency
	// AcceptedCurrencies are the payment currencies customers may choose
	// (the quote table of TypeTimer invoices). Default: every Crypto
	// currency of the table, in table order.
	AcceptedCurrencies []string
	// PaymentWindow defaults to 15 minutes.
	PaymentWindow time.Duration
	// ProcessingWindow defaults to 24 hours.
	ProcessingWindow time.Duration
	// UnderpaymentTolerancePercent lets an invoice confirm when the
	// confirmed total is at most this percentage short. Default 0; must be
	// in [0, 100).
	UnderpaymentTolerancePercent decimal.Decimal
	// RateSpreadPercent lowers every fixed rate by this percentage (the
	// customer pays that much more). Default 0; must be in [0, 100).
	RateSpreadPercent decimal.Decimal
	// RetrySchedule is the wait before each retry after a failed delivery;
	// after the last one the delivery is dead. Default
	// DefaultRetrySchedule(); every entry must be positive.
	RetrySchedule []time.Duration
	// NewID generates invoice, delivery and refund-claim IDs. Default
	// uuid.NewV7. Inject a deterministic source in tests.
	NewID func() (uuid.UUID, error)
	// Logger defaults to a logger that discards everything.
	Logger *slog.Logger

	// SweepBatch is how many due invoices one sweep round claims; the
	// round fails them with one Store.UpdateInvoices. Default 500.
	SweepBatch int
	// SweepConcurrency is how many claimed invoices whose batched update
	// conflicted with another writer one sweep redoes at once (each from a
	// fresh read, its own store operation). Default 1.
	SweepConcurrency int
	// SweepLease is how long a claimed due invoice is held. Default 1 minute.
	SweepLease time.Duration
	// DeliveryBatch is how many deliveries one round claims. Default 100.
	DeliveryBatch int
	// DeliveryConcurrency is how many deliveries run at once. Default 16.
	DeliveryConcurrency int
	// DeliveryTimeout bounds one attempt (the context given to the
	// notifier). Default 30 seconds.
	DeliveryTimeout time.Duration
	// DeliveryLease is how long a claimed delivery is held; it must exceed
	// DeliveryTimeout. Default 2 minutes.
	DeliveryLease time.Duration
	// PollInterval is how often Run looks for due work when idle. Default 1 second.
	PollInterval time.Duration
	// ShutdownGrace is how long Run, once its context ends, lets the
	// delivery attempts in flight finish and be recorded before cancelling
	// them. Default DeliveryTimeout; negative: cancel them at once.
	ShutdownGrace time.Duration
	// RetryJitterPercent adds a random part of up to this percentage to
	// every retry wait, so that deliveries failing together are not retried
	// in lockstep: a wait of w becomes one in [w, w·(1+p/100)]. Default 10;
	// negative: no jitter (exact schedule).
	RetryJitterPercent int
	// MaxRetryAfter caps how long a receiver's Retry-After (on a 429 or
	// 503 answer) may delay the next attempt beyond the schedule. Default
	// 1 hour; negative: Retry-After is ignored.
	MaxRetryAfter time.Duration
}

func (c *Config) setDefaults() {
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	if c.Currencies == nil {
		c.Currencies = DefaultCurrencies()
	}
	if c.AcceptedCurrencies == nil {
		for _, cur := range c.Currencies {
			if cur.Crypto {
				c.AcceptedCurrencies = append(c.AcceptedCurrencies, cur.Code)
			}
		}
	}
	setDuration(&c.PaymentWindow, 15*time.Minute)
	setDuration(&c.ProcessingWindow, 24*time.Hour)
	if c.RetrySchedule == nil {
		c.RetrySchedule = DefaultRetrySchedule()
	}
	if c.NewID == nil {
		c.NewID = uuid.NewV7
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	setInt(&c.SweepBatch, 500)
	setInt(&c.SweepConcurrency, 1)
	setDuration(&c.SweepLease, time.Minute)
	setInt(&c.DeliveryBatch, 100)
	setInt(&c.DeliveryConcurrency, 16)
	setDuration(&c.DeliveryTimeout, 30*time.Second)
	setDuration(&c.DeliveryLease, 2*time.Minute)
	setDuration(&c.PollInterval, time.Second)
	setDuration(&c.ShutdownGrace, c.DeliveryTimeout)
	setInt(&c.RetryJitterPercent, 10)
	setDuration(&c.MaxRetryAfter, time.Hour)
}

func setDuration(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

func setInt(n *int, def int) {
	if *n == 0 {
		*n = def
	}
}

func (c *Config) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	switch {
	case c.Store == nil:
		return bad("Store is required")
	case c.Rates == nil:
		return bad("Rates is required")
	case c.Addresses == nil:
		return bad("Addresses is required")
	case c.Notifier == nil:
		return bad("Notifier is required")
	case c.CustomerNotifier == nil:
		return bad("CustomerNotifier is required")
	}
	seen := make(map[string]bool, len(c.Currencies))
	for _, cur := range c.Currencies {
		if cur.Code == "" || seen[cur.Code] {
			return bad("currency code %q is empty or repeated", cur.Code)
		}
		if !ValidText(cur.Code) || strings.ContainsFunc(cur.Code, isSpace) || len(cur.Code) > 32 {
			return bad("currency code %q must be at most 32 bytes of printable text without spaces", cur.Code)
		}
		if cur.Precision < 0 || cur.Precision > 30 {
			return bad("currency %s precision %d out of [0, 30]", cur.Code, cur.Precision)
		}
		if cur.MinAmount.IsNegative() {
			return bad("currency %s minimum amount is negative", cur.Code)
		}
		seen[cur.Code] = true
	}
	for _, code := range c.AcceptedCurrencies {
		if !seen[code] {
			return bad("accepted currency %s is not in the currency table", code)
		}
	}
	if c.CheckoutBaseURL != "" && !validBaseURL(c.CheckoutBaseURL) {
		return bad("CheckoutBaseURL %q is not an absolute http(s) URL without query or fragment", c.CheckoutBaseURL)
	}
	if c.PaymentWindow < 0 || c.ProcessingWindow < 0 {
		return bad("windows must be positive")
	}
	hundred := decimal.NewFromInt(100)
	for name, v := range map[string]decimal.Decimal{
		"UnderpaymentTolerancePercent": c.UnderpaymentTolerancePercent,
		"RateSpreadPercent":            c.RateSpreadPercent,
	} {
		if v.IsNegative() || v.GreaterThanOrEqual(hundred) {
			return bad("%s %s out of [0, 100)", name, v)
		}
		if v.Exponent() < -8 && !v.Equal(v.Truncate(8)) {
			return bad("%s %s has more than 8 decimal places", name, v)
		}
	}
	if slices.ContainsFunc(c.RetrySchedule, func(d time.Duration) bool { return d <= 0 }) {
		return bad("every RetrySchedule entry must be positive")
	}
	if c.SweepBatch < 0 || c.SweepConcurrency < 0 || c.DeliveryBatch < 0 || c.DeliveryConcurrency < 0 {
		return bad("batch sizes and concurrency must be positive")
	}
	if c.RetryJitterPercent > 100 {
		return bad("RetryJitterPercent %d above 100", c.RetryJitterPercent)
	}
	if c.DeliveryLease <= c.DeliveryTimeout {
		return bad("DeliveryLease (%s) must exceed DeliveryTimeout (%s)", c.DeliveryLease, c.DeliveryTimeout)
	}
	return nil
}
