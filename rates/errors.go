package rates

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cryptoinvoice/invoice"
)

// What went wrong with a feed. A *FeedError matches exactly one of these
// with errors.Is, and invoice.ErrRate too.
var (
	// ErrRateLimited: the feed refused because of its rate limit (HTTP
	// 429 or 418, or Kraken's "EAPI:Rate limit exceeded"). See
	// FeedError.RetryAfter.
	ErrRateLimited = errors.New("rates: rate limited")
	// ErrUnknownPair: the feed does not quote this pair.
	ErrUnknownPair = errors.New("rates: unknown pair")
	// ErrMalformed: the answer could not be understood (not JSON, missing
	// fields, a price that is not a decimal number).
	ErrMalformed = errors.New("rates: malformed answer")
	// ErrNonPositive: the feed quoted zero or a negative price.
	ErrNonPositive = errors.New("rates: price is not positive")
	// ErrUnavailable: no answer (network error, timeout, cancelled
	// context) or an error status of the feed (5xx and other errors).
	ErrUnavailable = errors.New("rates: feed unavailable")
	// ErrStale: the rate is older than allowed.
	ErrStale = errors.New("rates: rate is stale")
	// ErrDiverged: the feeds of a Median disagree by more than the maximum
	// divergence, or too few of them answered.
	ErrDiverged = errors.New("rates: feeds disagree")
)

// FeedError is an error of one feed for one pair. It matches
// invoice.ErrRate and its Kind with errors.Is, and unwraps to Err (for
// example context.DeadlineExceeded after a timeout).
type FeedError struct {
	// Feed names the feed: "coinbase", "kraken", "binance", "coingecko".
	Feed string
	// Pair is the pair asked for, "PAY/INVOICE" (e.g. "BTC/EUR").
	Pair string
	// StatusCode is the HTTP status of the answer; 0 when there was none.
	StatusCode int
	// RetryAfter is how long the feed asked to wait before the next
	// request (its Retry-After header); 0 when it did not say.
	RetryAfter time.Duration
	// Message is the feed's own error text, if it sent one (e.g.
	// "EQuery:Unknown asset pair"), at most 200 bytes.
	Message string
	// Kind is one of ErrRateLimited, ErrUnknownPair, ErrMalformed,
	// ErrNonPositive, ErrUnavailable, ErrStale.
	Kind error
	// Err is the underlying cause, if any (a network or decoding error).
	Err error
}

// Error describes the failure without any secret (API keys travel in
// headers, never in the URL or the message).
func (e *FeedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rates: %s %s: ", e.Feed, e.Pair)
	if e.Kind != nil {
		b.WriteString(strings.TrimPrefix(e.Kind.Error(), "rates: "))
	} else {
		b.WriteString("error")
	}
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " (HTTP %d", e.StatusCode)
		if e.RetryAfter > 0 {
			fmt.Fprintf(&b, ", retry after %s", e.RetryAfter)
		}
		b.WriteString(")")
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %q", e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Is reports whether target is invoice.ErrRate.
func (e *FeedError) Is(target error) bool { return target == invoice.ErrRate }

// Unwrap returns Kind and Err.
func (e *FeedError) Unwrap() []error {
	errs := make([]error, 0, 2)
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// rateError is an error of a combinator: it matches invoice.ErrRate, kind
// (if not nil) and every cause.
func rateError(kind error, pair, msg string, causes ...error) error {
	errs := []error{invoice.ErrRate}
	if kind != nil {
		errs = append(errs, kind)
	}
	return &comboError{pair: pair, msg: msg, causes: causes, errs: append(errs, causes...)}
}

// comboError is the error of a combinator for one pair.
type comboError struct {
	pair, msg string
	causes    []error
	errs      []error // invoice.ErrRate, the kind, the causes
}

func (e *comboError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rates: %s: %s", e.pair, e.msg)
	for i, err := range e.causes {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(err.Error())
	}
	return b.String()
}

func (e *comboError) Unwrap() []error { return e.errs }
