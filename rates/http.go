package rates

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

const (
	// DefaultTimeout bounds one request of an adapter whose Timeout is zero.
	DefaultTimeout = 10 * time.Second
	// maxBody is the most of an answer an adapter reads: a one-pair price
	// answer is well under 1 KiB.
	maxBody = 64 << 10
	// maxMessage is the most of a feed's error text kept in a FeedError.
	maxMessage = 200
)

// endpoint is what every adapter needs to ask its feed for one pair.
type endpoint struct {
	feed    string
	pair    string // "PAY/INVOICE", for every FeedError
	client  *http.Client
	timeout time.Duration
}

// newEndpoint returns the endpoint of feed for the pair, or the FeedError
// for a currency code that must not reach a feed's URL.
func newEndpoint(feed string, client *http.Client, timeout time.Duration, payCurrency, invoiceCurrency string) (endpoint, error) {
	e := endpoint{feed: feed, pair: pairKey(payCurrency, invoiceCurrency), client: client, timeout: timeout}
	return e, e.checkCodes(payCurrency, invoiceCurrency)
}

// checkCodes refuses currency codes that are not 1 to 16 ASCII letters or
// digits, so nothing else ever reaches a feed's URL.
func (e endpoint) checkCodes(codes ...string) error {
	for _, c := range codes {
		ok := len(c) >= 1 && len(c) <= 16
		for i := 0; ok && i < len(c); i++ {
			b := c[i]
			ok = (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9')
		}
		if !ok {
			return &FeedError{Feed: e.feed, Pair: e.pair, Kind: ErrUnknownPair, Err: fmt.Errorf("currency code %.20q is not 1-16 letters or digits", c)}
		}
	}
	return nil
}

// answer is a feed's HTTP answer, body read (at most maxBody bytes).
type answer struct {
	status int
	header http.Header
	body   []byte
}

// get asks url with the given extra headers under the adapter's timeout.
// It returns a *FeedError when there is no complete answer; any HTTP
// status is returned as an answer for the adapter to interpret.
func (e endpoint) get(ctx context.Context, url string, header http.Header) (*answer, error) {
	timeout := e.timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, &FeedError{Feed: e.feed, Pair: e.pair, Kind: ErrUnavailable, Err: err}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	client := e.client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, &FeedError{Feed: e.feed, Pair: e.pair, Kind: ErrUnavailable, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, &FeedError{Feed: e.feed, Pair: e.pair, StatusCode: resp.StatusCode, Kind: ErrUnavailable, Err: err}
	}
	if len(body) > maxBody {
		return nil, &FeedError{Feed: e.feed, Pair: e.pair, StatusCode: resp.StatusCode, Kind: ErrMalformed,
			Err: fmt.Errorf("answer longer than %d bytes", maxBody)}
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// fail builds the FeedError for an answer: kind, or when kind is nil the
// kind the HTTP status implies (429 and 418 are rate limits, anything else
// unavailable). msg is the feed's own error text, if any.
func (e endpoint) fail(a *answer, kind error, msg string, cause error) *FeedError {
	if kind == nil {
		switch a.status {
		case http.StatusTooManyRequests, http.StatusTeapot: // Binance answers 418 to clients that ignored its 429s
			kind = ErrRateLimited
		default:
			kind = ErrUnavailable
		}
	}
	return &FeedError{
		Feed: e.feed, Pair: e.pair, StatusCode: a.status, RetryAfter: retryAfter(a.header),
		Message: clip(msg), Kind: kind, Err: cause,
	}
}

// retryAfter parses a Retry-After header: delay seconds, or an HTTP date
// measured from the answer's own Date header. It returns 0 when there is
// none or it cannot be read.
func retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 || n > int64(24*time.Hour/time.Second) {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	date, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		return 0
	}
	if d := at.Sub(date); d > 0 && d <= 24*time.Hour {
		return d
	}
	return 0
}

// clip shortens a feed's error text for a FeedError.
func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= maxMessage {
		return s
	}
	return strings.ToValidUTF8(s[:maxMessage], "") + "…"
}

// price is a decimal price from JSON, read exactly from either a string
// ("52641.10000") or a number literal (67187.3358, 1.2e-05): the literal's
// text is parsed by decimal.NewFromString, never through float64. null
// leaves it unset.
type price struct {
	d   decimal.Decimal
	set bool
}

// UnmarshalJSON reads a JSON string or number.
func (p *price) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	} else if len(b) == 0 || !(b[0] == '-' || (b[0] >= '0' && b[0] <= '9')) {
		return fmt.Errorf("price %.40s is neither a string nor a number", b)
	}
	d, err := parseDecimal(s)
	if err != nil {
		return err
	}
	p.d, p.set = d, true
	return nil
}

// parseDecimal parses a decimal price, refusing what decimal accepts but a
// price never is (spaces, a huge exponent that would make every later
// division enormous).
func parseDecimal(s string) (decimal.Decimal, error) {
	if s == "" || strings.TrimSpace(s) != s {
		return decimal.Decimal{}, fmt.Errorf("price %q is not a decimal number", s)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("price %.40q is not a decimal number", s)
	}
	if exp := d.Exponent(); exp < -40 || exp > 30 || d.NumDigits() > 40 {
		return decimal.Decimal{}, fmt.Errorf("price %.40q is out of range", s)
	}
	return d, nil
}

// checkPrice turns a parsed price into the rate, or the FeedError for a
// missing, zero or negative one.
func (e endpoint) checkPrice(a *answer, p price, field string) (decimal.Decimal, error) {
	if !p.set {
		return decimal.Decimal{}, e.fail(a, ErrMalformed, "", fmt.Errorf("no %s in the answer", field))
	}
	if !p.d.IsPositive() {
		return decimal.Decimal{}, e.fail(a, ErrNonPositive, "", fmt.Errorf("%s is %s", field, p.d))
	}
	return p.d, nil
}

// decode unmarshals an answer's body into v, or returns the FeedError.
func (e endpoint) decode(a *answer, v any) error {
	if err := json.Unmarshal(a.body, v); err != nil {
		return e.fail(a, ErrMalformed, "", err)
	}
	return nil
}

// baseURL returns base without a trailing slash, or def when base is empty.
func baseURL(base, def string) string {
	if base == "" {
		return def
	}
	return strings.TrimRight(base, "/")
}

// isOK reports a 2xx status.
func isOK(status int) bool { return status >= 200 && status < 300 }

// asFeedError is errors.As for a *FeedError.
func asFeedError(err error) (*FeedError, bool) {
	var fe *FeedError
	ok := errors.As(err, &fe)
	return fe, ok
}

// pairKey is the "PAY/INVOICE" spelling of a pair.
func pairKey(pay, inv string) string { return pay + "/" + inv }
