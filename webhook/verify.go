package webhook

import (
	"crypto/hmac"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Verification errors. Verifier.Verify and VerifyProcessingSignature
// return errors that match exactly one of these with errors.Is.
var (
	// ErrMissingHeaders: a header the required scheme needs, other than the
	// signature itself, is absent: webhook-id or webhook-timestamp
	// (Standard Webhooks), X-Processing-Key when Verifier.Key is set.
	ErrMissingHeaders = errors.New("webhook: missing webhook headers")
	// ErrMissingSignature: the signature header of a required scheme is
	// absent or empty.
	ErrMissingSignature = errors.New("webhook: missing signature")
	// ErrBadSignature: a signature header is present but malformed, or no
	// signature in it matches the body with any of the secrets. A tampered
	// body, a wrong secret and a forged header all end here.
	ErrBadSignature = errors.New("webhook: bad signature")
	// ErrBadKey: X-Processing-Key is not the expected Verifier.Key.
	ErrBadKey = errors.New("webhook: unexpected X-Processing-Key")
	// ErrStaleTimestamp: webhook-timestamp is not a unix time within
	// Verifier.Tolerance of now (past or future): a replay, or a clock far
	// off.
	ErrStaleTimestamp = errors.New("webhook: timestamp outside tolerance")
)

// DefaultTolerance is how far webhook-timestamp may be from now.
const DefaultTolerance = 5 * time.Minute

// Limits of header parsing: generous for any real sender, small enough
// that a hostile header costs little.
const (
	maxHeaderLen  = 8 << 10
	maxSignatures = 32
)

// VerifyProcessingSignature checks the CoinsPaid scheme:
// headerSig must be hex(HMAC-SHA512(secret, body)) (either letter case;
// surrounding spaces ignored). The comparison is constant-time. It
// returns nil, or an error matching ErrMissingSignature (headerSig empty)
// or ErrBadSignature.
func VerifyProcessingSignature(secret string, body []byte, headerSig string) error {
	headerSig = strings.TrimSpace(headerSig)
	if headerSig == "" {
		return fmt.Errorf("%w: %s is empty", ErrMissingSignature, HeaderProcessingSignature)
	}
	if len(headerSig) != 2*sha512.Size {
		return fmt.Errorf("%w: %s has the wrong length", ErrBadSignature, HeaderProcessingSignature)
	}
	got, err := hex.DecodeString(headerSig)
	if err != nil {
		return fmt.Errorf("%w: %s is not hex", ErrBadSignature, HeaderProcessingSignature)
	}
	m := hmac.New(sha512.New, []byte(secret))
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return fmt.Errorf("%w: %s does not match the body", ErrBadSignature, HeaderProcessingSignature)
	}
	return nil
}

// Scheme selects signature schemes: SchemeStandard, SchemeProcessing, or
// both or-ed together (SchemeBoth).
type Scheme uint8

// Signature schemes.
const (
	// SchemeStandard is Standard Webhooks: webhook-id, webhook-timestamp
	// and webhook-signature ("v1,<base64 HMAC-SHA256>"), with replay
	// protection by timestamp.
	SchemeStandard Scheme = 1 << iota
	// SchemeProcessing is CoinsPaid's: X-Processing-Key and
	// X-Processing-Signature (hex HMAC-SHA512 of the body). It has no
	// timestamp, so a captured request can be replayed; dedupe on the
	// callback's content.
	SchemeProcessing
	// SchemeBoth requires both schemes to verify (what a Sender sends).
	SchemeBoth = SchemeStandard | SchemeProcessing
)

// String returns "standard", "processing" or "standard+processing".
func (s Scheme) String() string {
	switch s {
	case SchemeStandard:
		return "standard"
	case SchemeProcessing:
		return "processing"
	case SchemeBoth:
		return "standard+processing"
	case 0:
		return "none"
	}
	return fmt.Sprintf("Scheme(%d)", uint8(s))
}

// Meta is what a verified request says about its delivery.
type Meta struct {
	// ID is the webhook-id: the delivery's id, the same on every retry of
	// one callback and different for every callback. Dedupe on it. Empty
	// when only the CoinsPaid scheme was checked and the header is absent.
	ID string
	// Timestamp is webhook-timestamp (the attempt's signing time); zero
	// when absent.
	Timestamp time.Time
	// Key is X-Processing-Key ("" when absent).
	Key string
	// Verified lists the schemes that were checked and passed.
	Verified Scheme
}

// Verifier checks signed callbacks on the merchant's side. Set the fields
// and use it; the zero value of every optional field is its default. A
// Verifier is safe for concurrent use as long as its fields do not change.
type Verifier struct {
	// Secret is the CoinsPaid secret (X-Processing-Signature). Required
	// when the CoinsPaid scheme is required; also the Standard Webhooks
	// secret when Secrets is empty (as a Sender does).
	Secret string
	// Secrets are the Standard Webhooks secrets ("whsec_<base64>" or
	// raw); a signature made with any of them is accepted (rotation).
	// Default: Secret.
	Secrets []string
	// Key, when set, must equal X-Processing-Key (CoinsPaid scheme).
	Key string
	// Require selects the schemes that must verify. Default SchemeBoth.
	Require Scheme
	// Tolerance is how far webhook-timestamp may be from Now, either way.
	// Zero or negative means DefaultTolerance (5 minutes).
	Tolerance time.Duration
	// Now defaults to time.Now.
	Now func() time.Time
	// MaxBodyBytes bounds the body Handler reads. Zero or negative means
	// DefaultMaxBodyBytes (1 MiB).
	MaxBodyBytes int64
}

// DefaultMaxBodyBytes is the default Verifier.MaxBodyBytes.
const DefaultMaxBodyBytes = 1 << 20

func (v *Verifier) require() Scheme {
	if v.Require == 0 {
		return SchemeBoth
	}
	return v.Require
}

func (v *Verifier) tolerance() time.Duration {
	if v.Tolerance <= 0 {
		return DefaultTolerance
	}
	return v.Tolerance
}

func (v *Verifier) now() time.Time {
	if v.Now == nil {
		return time.Now()
	}
	return v.Now()
}

func (v *Verifier) maxBody() int64 {
	if v.MaxBodyBytes <= 0 {
		return DefaultMaxBodyBytes
	}
	return v.MaxBodyBytes
}

// keys returns the decoded Standard Webhooks keys.
func (v *Verifier) keys() ([][]byte, error) {
	secrets := v.Secrets
	if len(secrets) == 0 && v.Secret != "" {
		secrets = []string{v.Secret}
	}
	if len(secrets) == 0 {
		return nil, fmt.Errorf("%w: Verifier has neither Secret nor Secrets", ErrInvalidSecret)
	}
	return secretKeys(secrets)
}

// Check reports a configuration error (wrapping ErrInvalidSecret): no
// secret for a required scheme, a malformed whsec_ secret, or an unknown
// Require value. Handler calls it once when built.
func (v *Verifier) Check() error {
	req := v.require()
	if req&^SchemeBoth != 0 {
		return fmt.Errorf("%w: unknown Require %s", ErrInvalidSecret, req)
	}
	if req&SchemeProcessing != 0 && v.Secret == "" {
		return fmt.Errorf("%w: the CoinsPaid scheme needs Secret", ErrInvalidSecret)
	}
	if req&SchemeStandard != 0 {
		if _, err := v.keys(); err != nil {
			return err
		}
	}
	return nil
}

// Verify checks the headers of a request against its exact body with
// every scheme v requires. It returns the delivery's Meta, or an error
// matching one of ErrMissingHeaders, ErrMissingSignature, ErrBadSignature,
// ErrBadKey, ErrStaleTimestamp, or ErrInvalidSecret when v itself is
// misconfigured. When both schemes are required, the Standard Webhooks
// one is checked first.
func (v *Verifier) Verify(headers http.Header, body []byte) (Meta, error) {
	if err := v.Check(); err != nil {
		return Meta{}, err
	}
	meta := Meta{
		ID:  headers.Get(HeaderWebhookID),
		Key: headers.Get(HeaderProcessingKey),
	}
	req := v.require()
	if req&SchemeStandard != 0 {
		ts, err := v.verifyStandard(headers, body)
		if err != nil {
			return Meta{}, err
		}
		meta.Timestamp = ts
		meta.Verified |= SchemeStandard
	} else if sec, err := strconv.ParseInt(headers.Get(HeaderWebhookTimestamp), 10, 64); err == nil {
		meta.Timestamp = time.Unix(sec, 0)
	}
	if req&SchemeProcessing != 0 {
		if v.Key != "" {
			switch {
			case meta.Key == "":
				return Meta{}, fmt.Errorf("%w: %s is absent", ErrMissingHeaders, HeaderProcessingKey)
			case subtle.ConstantTimeCompare([]byte(meta.Key), []byte(v.Key)) != 1:
				return Meta{}, ErrBadKey
			}
		}
		if err := VerifyProcessingSignature(v.Secret, body, headers.Get(HeaderProcessingSignature)); err != nil {
			return Meta{}, err
		}
		meta.Verified |= SchemeProcessing
	}
	return meta, nil
}

// verifyStandard checks the Standard Webhooks headers and returns the
// timestamp.
func (v *Verifier) verifyStandard(headers http.Header, body []byte) (time.Time, error) {
	id := headers.Get(HeaderWebhookID)
	tsRaw := headers.Get(HeaderWebhookTimestamp)
	sigs := headers.Get(HeaderWebhookSignature)
	switch {
	case id == "":
		return time.Time{}, fmt.Errorf("%w: %s is absent", ErrMissingHeaders, HeaderWebhookID)
	case tsRaw == "":
		return time.Time{}, fmt.Errorf("%w: %s is absent", ErrMissingHeaders, HeaderWebhookTimestamp)
	case strings.TrimSpace(sigs) == "":
		return time.Time{}, fmt.Errorf("%w: %s is absent", ErrMissingSignature, HeaderWebhookSignature)
	case len(id) > maxHeaderLen || len(sigs) > maxHeaderLen:
		return time.Time{}, fmt.Errorf("%w: header too long", ErrBadSignature)
	}
	ts, ok := parseUnix(tsRaw)
	if !ok {
		return time.Time{}, fmt.Errorf("%w: %s %q is not unix seconds", ErrStaleTimestamp, HeaderWebhookTimestamp, trunc(tsRaw))
	}
	now := v.now()
	if d := now.Sub(ts); d > v.tolerance() || d < -v.tolerance() {
		return time.Time{}, fmt.Errorf("%w: %s is %s, now is %s", ErrStaleTimestamp,
			HeaderWebhookTimestamp, ts.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	keys, err := v.keys()
	if err != nil {
		return time.Time{}, err
	}
	expected := make([][]byte, len(keys))
	for i, k := range keys {
		expected[i] = standardMAC(k, id, tsRaw, body)
	}
	seen := 0
	for _, field := range strings.Fields(sigs) {
		if seen++; seen > maxSignatures {
			break
		}
		version, sig, ok := strings.Cut(field, ",")
		if !ok || version != "v1" {
			continue // another version (v1a: asymmetric) or garbage
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err != nil {
			continue
		}
		for _, want := range expected {
			if hmac.Equal(got, want) {
				return ts, nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("%w: no %s matches the body with any secret", ErrBadSignature, HeaderWebhookSignature)
}

// parseUnix parses positive unix seconds written as plain digits.
func parseUnix(s string) (time.Time, bool) {
	if s == "" || len(s) > 12 {
		return time.Time{}, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return time.Time{}, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

func trunc(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}
