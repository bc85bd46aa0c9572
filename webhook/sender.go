package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cryptoinvoice/invoice"
)

// Defaults of SenderConfig.
const (
	// DefaultTimeout bounds one delivery attempt of a Sender.
	DefaultTimeout = 15 * time.Second
	// DefaultMaxResponseBytes is how much of a receiver's answer a Sender
	// reads.
	DefaultMaxResponseBytes = 64 << 10
	// DefaultUserAgent is the User-Agent of a Sender.
	DefaultUserAgent = "cryptoinvoice-webhook/1"
)

// ErrConfig means a SenderConfig is invalid.
var ErrConfig = errors.New("webhook: invalid sender configuration")

// SenderConfig configures a Sender. URL, Key and Secret are required;
// every other zero value means the documented default.
type SenderConfig struct {
	// URL is the merchant's callback endpoint: an absolute http or https
	// URL with a host.
	URL string
	// Key is the merchant's public key, sent as X-Processing-Key.
	Key string
	// Secret is the merchant's CoinsPaid secret:
	// X-Processing-Signature = hex(HMAC-SHA512(Secret, body)).
	Secret string
	// SigningSecrets are the Standard Webhooks secrets ("whsec_<base64>"
	// or raw). Every one signs each delivery, so a receiver holding any of
	// them verifies it: add the new secret, move receivers over, then drop
	// the old one. Default: Secret.
	SigningSecrets []string

	// Timeout bounds one attempt (connect, send, answer and reading the
	// answer), within whatever deadline the engine's context already
	// carries. Default DefaultTimeout (15 s).
	Timeout time.Duration
	// MaxResponseBytes is how much of the answer is read before the
	// connection is closed. Default DefaultMaxResponseBytes (64 KiB).
	MaxResponseBytes int64
	// UserAgent defaults to DefaultUserAgent.
	UserAgent string
	// BodyForm is the byte form of the bodies (see invoice.BodyForm).
	// The default, invoice.BodyPHP, is accepted by receivers that verify
	// the raw body and by those that, like CoinsPaid's own PHP shop
	// plugins, verify over json_encode(json_decode(body, true)). Choose
	// invoice.BodyJSONStringify for receivers that verify over
	// JSON.stringify(JSON.parse(body)); no form satisfies both.
	BodyForm invoice.BodyForm

	// BlockPrivateNetworks refuses to connect to loopback, private
	// (RFC 1918, fc00::/7), link-local, unspecified, multicast, CGNAT
	// (100.64.0.0/10) and other non-public addresses, checked on the
	// address actually dialled (so a DNS answer that changes between
	// checks cannot bypass it). Such attempts fail with an error matching
	// ErrBlockedAddress. Turn it on when merchants may configure the URL.
	// It needs the Sender's own transport, so it cannot be combined with
	// Client or Transport, and environment proxies are not used.
	BlockPrivateNetworks bool

	// Client, when set, sends the requests (tests, custom TLS). The Sender
	// uses a copy of it whose CheckRedirect refuses to follow redirects.
	// Default: a client with its own transport (ProxyFromEnvironment
	// unless BlockPrivateNetworks is set).
	Client *http.Client
	// Transport, when set and Client is not, is the RoundTripper of the
	// Sender's client.
	Transport http.RoundTripper

	// Now gives webhook-timestamp. Default time.Now. It is wall-clock
	// time on purpose, not the engine's Clock: receivers compare it with
	// their own clock.
	Now func() time.Time
}

// Sender delivers callbacks over HTTP: it implements invoice.Notifier.
// Each attempt is one POST of the JSON-encoded invoice.Callback, signed
// with both the CoinsPaid headers (X-Processing-Key,
// X-Processing-Signature) and the Standard Webhooks headers (webhook-id =
// the delivery's ID, stable across retries; webhook-timestamp;
// webhook-signature). Only a 2xx answer acknowledges the callback;
// anything else is a *StatusError, which the engine records as the
// attempt's status code. Redirects are not followed. A Sender is safe for
// concurrent use.
type Sender struct {
	url        string
	client     *http.Client
	signer     signer
	timeout    time.Duration
	maxResp    int64
	userAgent  string
	now        func() time.Time
	logSafeURL string // no userinfo, no query values: safe for errors and logs
	form       invoice.BodyForm
}

var _ invoice.Notifier = (*Sender)(nil)

// NewSender validates cfg, applies its defaults and returns a Sender.
// Errors match ErrConfig (or ErrInvalidSecret for a malformed signing
// secret).
func NewSender(cfg SenderConfig) (*Sender, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	u, err := url.Parse(cfg.URL)
	switch {
	case cfg.URL == "":
		return nil, bad("URL is required")
	case err != nil:
		return nil, bad("URL: %v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, bad("URL must be an absolute http or https URL, got scheme %q", u.Scheme)
	case u.Host == "" || u.Hostname() == "":
		return nil, bad("URL has no host")
	case cfg.Key == "":
		return nil, bad("Key is required")
	case cfg.Secret == "":
		return nil, bad("Secret is required")
	case cfg.Timeout < 0:
		return nil, bad("Timeout is negative")
	case cfg.MaxResponseBytes < 0:
		return nil, bad("MaxResponseBytes is negative")
	case cfg.BlockPrivateNetworks && (cfg.Client != nil || cfg.Transport != nil):
		return nil, bad("BlockPrivateNetworks needs the Sender's own transport; do not set Client or Transport")
	case cfg.Client != nil && cfg.Transport != nil:
		return nil, bad("set Client or Transport, not both")
	case cfg.BodyForm > invoice.BodyJSONStringify:
		return nil, bad("unknown BodyForm %d", cfg.BodyForm)
	}
	secrets := cfg.SigningSecrets
	if len(secrets) == 0 {
		secrets = []string{cfg.Secret}
	}
	keys, err := secretKeys(secrets)
	if err != nil {
		return nil, fmt.Errorf("%w: SigningSecrets: %w", ErrConfig, err)
	}
	s := &Sender{
		url:        u.String(),
		signer:     signer{key: cfg.Key, secret: cfg.Secret, keys: keys},
		timeout:    cfg.Timeout,
		maxResp:    cfg.MaxResponseBytes,
		userAgent:  cfg.UserAgent,
		now:        cfg.Now,
		logSafeURL: invoice.RedactURL(u.String()),
		form:       cfg.BodyForm,
	}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	if s.maxResp == 0 {
		s.maxResp = DefaultMaxResponseBytes
	}
	if s.userAgent == "" {
		s.userAgent = DefaultUserAgent
	}
	if s.now == nil {
		s.now = time.Now
	}
	switch {
	case cfg.Client != nil:
		c := *cfg.Client
		s.client = &c
	case cfg.Transport != nil:
		s.client = &http.Client{Transport: cfg.Transport}
	default:
		s.client = &http.Client{Transport: newTransport(cfg.BlockPrivateNetworks)}
	}
	s.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return s, nil
}

// newTransport returns a transport like http.DefaultTransport's, with the
// private-network guard in its dialer when block is set.
func newTransport(block bool) *http.Transport {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	if block {
		d.Control = guardControl
		// A proxy would make the connection on our behalf, unchecked.
		t.Proxy = nil
	}
	return t
}

// Notify POSTs d.Callback, signed, to the configured URL. It returns nil
// only when the receiver answered 2xx; a *StatusError for any other
// answer (redirects included); otherwise the transport's error (timeout,
// refused connection, ErrBlockedAddress, ...). Only merchant deliveries
// (those with a Callback) can be sent.
func (s *Sender) Notify(ctx context.Context, d *invoice.Delivery) error {
	if d == nil || d.Callback == nil {
		return errors.New("webhook: delivery has no callback")
	}
	body, err := d.Callback.Body(s.form)
	if err != nil {
		return fmt.Errorf("webhook: encode callback: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook: build request: %w", err)
	}
	s.signer.sign(req.Header, d.ID.String(), s.now(), body)
	req.Header.Set("User-Agent", s.userAgent)

	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the URL, which may hold a token
		}
		return fmt.Errorf("webhook: POST %s: %w", s.logSafeURL, err)
	}
	// Read (at most maxResp of) the answer so the connection can be
	// reused, keeping its start for the error message.
	// A 2xx status counts even if reading the rest of its body fails.
	head, _ := readLimited(resp.Body, s.maxResp, maxErrorBody)
	resp.Body.Close()
	invoice.RecordStatus(ctx, resp.StatusCode) // into the delivery log, success or not
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		se := &StatusError{StatusCode: resp.StatusCode, Body: head, Location: resp.Header.Get("Location")}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			se.Wait = parseRetryAfter(resp.Header.Get("Retry-After"), s.now())
		}
		return se
	}
	return nil
}

// maxErrorBody is how much of a failed answer a StatusError keeps.
const maxErrorBody = 256

// readLimited reads and discards up to limit bytes of r, returning the
// first keep bytes.
func readLimited(r io.Reader, limit int64, keep int) ([]byte, error) {
	lr := io.LimitReader(r, limit)
	head := make([]byte, min(int64(keep), limit))
	n, err := io.ReadFull(lr, head)
	head = head[:n]
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return head, nil
	}
	if err != nil {
		return head, err
	}
	_, err = io.Copy(io.Discard, lr)
	return head, err
}

// ErrNotAcknowledged matches (errors.Is) every *StatusError: the receiver
// answered, but not with 2xx.
var ErrNotAcknowledged = errors.New("webhook: callback not acknowledged")

// StatusError is a receiver's answer other than 2xx. The engine records
// HTTPStatus as the attempt's status code.
type StatusError struct {
	StatusCode int
	// Body is the start of the answer (at most 256 bytes), for diagnostics.
	Body []byte
	// Location is the Location header of a redirect, which is not
	// followed.
	Location string
	// Wait is the Retry-After of a 429 or 503 answer (delay-seconds or an
	// HTTP date), 0 when there is none or it cannot be read. The engine
	// waits at least this long before the next attempt, up to its
	// Config.MaxRetryAfter.
	Wait time.Duration
}

// RetryAfter returns Wait: how long the receiver asked to be left alone.
func (e *StatusError) RetryAfter() time.Duration { return e.Wait }

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP
// date (relative to now). Anything else, or a time in the past, is 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, int64(7*24*3600))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), 7*24*time.Hour)
	}
	return 0
}

// Error describes the answer.
func (e *StatusError) Error() string {
	msg := "webhook: receiver answered " + strconv.Itoa(e.StatusCode)
	if t := http.StatusText(e.StatusCode); t != "" {
		msg += " " + t
	}
	if e.Location != "" {
		msg += " (redirect to " + invoice.RedactURL(e.Location) + " not followed)"
	}
	if len(e.Body) > 0 {
		msg += ": " + strconv.Quote(string(e.Body))
	}
	return msg
}

// HTTPStatus returns the answer's status code.
func (e *StatusError) HTTPStatus() int { return e.StatusCode }

// Is matches ErrNotAcknowledged, and a *StatusError target with the same
// StatusCode (or with StatusCode 0, matching any).
func (e *StatusError) Is(target error) bool {
	if target == ErrNotAcknowledged {
		return true
	}
	if t, ok := target.(*StatusError); ok {
		return t.StatusCode == 0 || t.StatusCode == e.StatusCode
	}
	return false
}
