package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/google/uuid"
)

// Header names. Go canonicalizes header keys ("webhook-id" is sent as
// "Webhook-Id"); HTTP header names are case-insensitive, so receivers see
// the same thing.
const (
	// HeaderProcessingKey carries the merchant's public key (CoinsPaid scheme).
	HeaderProcessingKey = "X-Processing-Key"
	// HeaderProcessingSignature carries hex(HMAC-SHA512(secret, body))
	// (CoinsPaid scheme).
	HeaderProcessingSignature = "X-Processing-Signature"
	// HeaderWebhookID carries the delivery id (Standard Webhooks): stable
	// across retries of one delivery, unique per callback.
	HeaderWebhookID = "webhook-id"
	// HeaderWebhookTimestamp carries the signing time in unix seconds
	// (Standard Webhooks).
	HeaderWebhookTimestamp = "webhook-timestamp"
	// HeaderWebhookSignature carries space-separated "v1,<base64>"
	// signatures (Standard Webhooks), one per signing secret.
	HeaderWebhookSignature = "webhook-signature"
)

// SecretPrefix marks a Standard Webhooks secret given as
// "whsec_<base64 key>": the signing key is the decoded remainder. A secret
// without the prefix is used as raw bytes.
const SecretPrefix = "whsec_"

// StandardSecret returns secret in the form every reference Standard
// Webhooks library (standardwebhooks for Go, JavaScript, Python, PHP,
// Ruby, Java, C#, ...) takes: "whsec_" + base64 of its bytes. Those
// libraries base64-decode whatever they are given (after stripping the
// prefix), so a raw secret such as a CoinsPaid one must be given to them
// in this form (or through their raw-key constructors: Go
// NewWebhookRaw([]byte(secret)), JavaScript new Webhook(secret,
// {format: "raw"}), Python Webhook(secret.encode()), PHP
// Webhook::fromRaw($secret)). A secret that already has the prefix is
// returned as it is.
func StandardSecret(secret string) string {
	if strings.HasPrefix(secret, SecretPrefix) {
		return secret
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString([]byte(secret))
}

// NewSigningSecret returns a new random Standard Webhooks secret:
// "whsec_" + base64 of 32 bytes from crypto/rand, accepted unchanged by
// this package and by every reference library. Issue these to merchants
// as SenderConfig.SigningSecrets.
func NewSigningSecret() string {
	var key [32]byte
	_, _ = rand.Read(key[:]) // never fails (crypto/rand)
	return SecretPrefix + base64.StdEncoding.EncodeToString(key[:])
}

// ErrInvalidSecret means a signing secret is empty, or has the whsec_
// prefix and a remainder that is not valid base64. It is a configuration
// error, not an attacker's.
var ErrInvalidSecret = errors.New("webhook: invalid signing secret")

// ProcessingSignature returns the CoinsPaid callback signature of body:
// lowercase hex of HMAC-SHA512 keyed with secret's bytes. body must be the
// exact bytes sent.
func ProcessingSignature(secret string, body []byte) string {
	m := hmac.New(sha512.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// secretKey returns the HMAC key of a Standard Webhooks secret.
func secretKey(secret string) ([]byte, error) {
	if secret == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidSecret)
	}
	rest, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return []byte(secret), nil
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("%w: %s prefix with a remainder that is not base64", ErrInvalidSecret, SecretPrefix)
	}
	return key, nil
}

func secretKeys(secrets []string) ([][]byte, error) {
	keys := make([][]byte, 0, len(secrets))
	for i, s := range secrets {
		k, err := secretKey(s)
		if err != nil {
			return nil, fmt.Errorf("secret %d: %w", i, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// standardMAC is HMAC-SHA256(key, id + "." + timestamp + "." + body).
func standardMAC(key []byte, id, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// standardSignatures renders the webhook-signature header value: one
// "v1,<base64>" per key, space-separated.
func standardSignatures(keys [][]byte, id, timestamp string, body []byte) string {
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("v1,")
		b.WriteString(base64.StdEncoding.EncodeToString(standardMAC(k, id, timestamp, body)))
	}
	return b.String()
}

// StandardSignature returns the webhook-signature header value for a
// delivery: "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>" for each
// secret, space-separated (several secrets during a rotation). timestamp
// is unix seconds. Secrets follow SecretPrefix.
func StandardSignature(secrets []string, id string, timestamp int64, body []byte) (string, error) {
	if len(secrets) == 0 {
		return "", fmt.Errorf("%w: no secrets", ErrInvalidSecret)
	}
	keys, err := secretKeys(secrets)
	if err != nil {
		return "", err
	}
	return standardSignatures(keys, id, strconv.FormatInt(timestamp, 10), body), nil
}

// SignOptions says how to sign one callback with Sign or SignForTest. The
// fields mirror SenderConfig.
type SignOptions struct {
	// Key is sent as X-Processing-Key (omitted when "").
	Key string
	// Secret is the CoinsPaid secret: X-Processing-Signature is computed
	// with it (omitted when ""). It is also the Standard Webhooks secret
	// when SigningSecrets is empty.
	Secret string
	// SigningSecrets are the Standard Webhooks secrets, one signature each.
	// Default: Secret.
	SigningSecrets []string
	// ID is the webhook-id. Default: a new random UUID.
	ID string
	// Timestamp is the webhook-timestamp. Default: time.Now().
	Timestamp time.Time
	// BodyForm is the byte form of the body SignForTest encodes (see
	// SenderConfig.BodyForm). Default invoice.BodyPHP.
	BodyForm invoice.BodyForm
}

// Sign returns the headers a Sender would send with body: Content-Type,
// X-Processing-Key, X-Processing-Signature, webhook-id,
// webhook-timestamp and webhook-signature. At least one of Secret and
// SigningSecrets must be set.
func Sign(body []byte, opts SignOptions) (http.Header, error) {
	secrets := opts.SigningSecrets
	if len(secrets) == 0 && opts.Secret != "" {
		secrets = []string{opts.Secret}
	}
	if len(secrets) == 0 {
		return nil, fmt.Errorf("%w: neither Secret nor SigningSecrets is set", ErrInvalidSecret)
	}
	keys, err := secretKeys(secrets)
	if err != nil {
		return nil, err
	}
	if opts.ID == "" {
		opts.ID = uuid.NewString()
	}
	if opts.Timestamp.IsZero() {
		opts.Timestamp = time.Now()
	}
	s := signer{key: opts.Key, secret: opts.Secret, keys: keys}
	h := make(http.Header, 6)
	s.sign(h, opts.ID, opts.Timestamp, body)
	return h, nil
}

// SignForTest encodes cb exactly as a Sender does and signs it: merchants
// use it to build signed requests for their own handler tests, for
// example with httptest.NewRequest("POST", "/callbacks",
// bytes.NewReader(body)) and the headers copied in.
func SignForTest(cb *invoice.Callback, opts SignOptions) (body []byte, headers http.Header, err error) {
	if cb == nil {
		return nil, nil, errors.New("webhook: SignForTest: nil callback")
	}
	body, err = cb.Body(opts.BodyForm)
	if err != nil {
		return nil, nil, fmt.Errorf("webhook: encode callback: %w", err)
	}
	headers, err = Sign(body, opts)
	if err != nil {
		return nil, nil, err
	}
	return body, headers, nil
}

// signer holds decoded signing material.
type signer struct {
	key    string   // X-Processing-Key
	secret string   // CoinsPaid secret
	keys   [][]byte // Standard Webhooks keys
}

func (s signer) sign(h http.Header, id string, at time.Time, body []byte) {
	ts := strconv.FormatInt(at.Unix(), 10)
	h.Set("Content-Type", "application/json")
	if s.key != "" {
		h.Set(HeaderProcessingKey, s.key)
	}
	if s.secret != "" {
		h.Set(HeaderProcessingSignature, ProcessingSignature(s.secret, body))
	}
	h.Set(HeaderWebhookID, id)
	h.Set(HeaderWebhookTimestamp, ts)
	h.Set(HeaderWebhookSignature, standardSignatures(s.keys, id, ts, body))
}
