package invoice

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Refund claim tokens.
//
// A token is "rc2_" followed by the unpadded base64url encoding of 48
// bytes: the invoice ID (16), the claim ID (16) and the first 16 bytes of
// HMAC-SHA256(key, refundTokenDomain ‖ invoice ID ‖ claim ID), where key
// is Config.RefundTokenKeys[0] when the token is made. The length is fixed
// (68 characters) and 48 bytes encode to base64 without padding bits, so a
// token is parsed by position, never by searching for a separator that the
// alphabet may contain, and every byte string has exactly one token.
//
// Nothing of the token is stored: the engine derives it again whenever it
// hands a notice to the CustomerNotifier, and verifies a presented token by
// deriving the tag under each configured key. The IDs only locate the
// claim; the tag (128 bits) is what cannot be guessed or forged without a
// key.
const (
	refundTokenPrefix = "rc2_"
	refundTokenRaw    = 16 + 16 + refundTagLen
	refundTagLen      = 16
	refundTokenLen    = len(refundTokenPrefix) + refundTokenRaw/3*4 // 68
	refundTokenDomain = "github.com/cryptoinvoice/invoice refund claim token v2\x00"

	// MinRefundTokenKeyLen is the shortest key Config.RefundTokenKeys
	// accepts: 32 bytes (256 bits), the HMAC-SHA256 block-size-safe
	// minimum this package asks for.
	MinRefundTokenKeyLen = 32
)

var refundTokenEncoding = base64.RawURLEncoding.Strict()

// refundTag is the HMAC of a claim's location under key.
func refundTag(key []byte, invoiceID, claimID uuid.UUID) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(refundTokenDomain))
	m.Write(invoiceID[:])
	m.Write(claimID[:])
	return m.Sum(nil)[:refundTagLen]
}

// refundToken returns the token of a claim under the signing key.
func (e *Engine) refundToken(invoiceID, claimID uuid.UUID) string {
	var raw [refundTokenRaw]byte
	copy(raw[:16], invoiceID[:])
	copy(raw[16:32], claimID[:])
	copy(raw[32:], refundTag(e.refundKeys[0], invoiceID, claimID))
	return refundTokenPrefix + refundTokenEncoding.EncodeToString(raw[:])
}

// claimRef is where a presented token points, and how to check the claim
// found there.
type claimRef struct {
	invoiceID, claimID uuid.UUID
	// legacyHash is set for a token of the first format (see
	// parseLegacyToken): the claim must carry this TokenHash.
	legacyHash string
}

// matches reports whether the token also fits the claim found at its
// location. A derived token was verified already: the engine made it for
// this location, so it fits (a claim of the first format too: its pending
// notices are delivered with a derived token). A token of the first format
// fits only the claim whose stored hash it has.
func (r claimRef) matches(rc *RefundClaim) bool {
	if rc == nil {
		return false
	}
	if r.legacyHash == "" {
		return true
	}
	return rc.TokenHash != "" && subtle.ConstantTimeCompare([]byte(rc.TokenHash), []byte(r.legacyHash)) == 1
}

// locateClaim parses and verifies a presented token. ok is false for every
// token that cannot redeem anything: malformed, or with a tag that no
// configured key makes. The tag is compared in constant time under every
// key, and a malformed token costs the same HMAC work, so the time taken
// tells nothing about which keys exist or how close a forgery came.
func (e *Engine) locateClaim(token string) (claimRef, bool) {
	if strings.HasPrefix(token, legacyTokenPrefix) {
		return parseLegacyToken(token)
	}
	var raw [refundTokenRaw]byte
	wellFormed := len(token) == refundTokenLen && strings.HasPrefix(token, refundTokenPrefix)
	if wellFormed {
		n, err := refundTokenEncoding.Decode(raw[:], []byte(token[len(refundTokenPrefix):]))
		wellFormed = err == nil && n == refundTokenRaw
	}
	var ref claimRef
	copy(ref.invoiceID[:], raw[:16])
	copy(ref.claimID[:], raw[16:32])
	valid := 0
	for _, key := range e.refundKeys {
		valid |= subtle.ConstantTimeCompare(refundTag(key, ref.invoiceID, ref.claimID), raw[32:])
	}
	return ref, wellFormed && valid == 1
}

// Tokens of the first format, issued before tokens were derived: "rc_" +
// base64url(invoice ID ‖ claim ID) (43 characters) + "_" + a random
// secret, with only the SHA-256 of the whole token stored on the claim
// (RefundClaim.TokenHash). They are parsed by position too, so the ones
// whose IDs encode with a "_" (which the first parser refused) redeem now.
const (
	legacyTokenPrefix = "rc_"
	legacyIDsLen      = 43
)

func parseLegacyToken(token string) (claimRef, bool) {
	const sep = len(legacyTokenPrefix) + legacyIDsLen
	if len(token) < sep+2 || len(token) > 256 || token[sep] != '_' {
		return claimRef{}, false
	}
	ids, err := refundTokenEncoding.DecodeString(token[len(legacyTokenPrefix):sep])
	if err != nil || len(ids) != 32 {
		return claimRef{}, false
	}
	var ref claimRef
	copy(ref.invoiceID[:], ids[:16])
	copy(ref.claimID[:], ids[16:])
	sum := sha256.Sum256([]byte(token))
	ref.legacyHash = hex.EncodeToString(sum[:])
	return ref, true
}

// NewRefundTokenKey returns a new random key for Config.RefundTokenKeys:
// 32 bytes from crypto/rand. Generate it once (for example with a small
// program, or `openssl rand -base64 32`) and keep it with the engines'
// other secrets, never in the invoice database: every engine sharing a
// store must be given the same keys, and a claim's token redeems only while
// the key it was made under is configured. A key made at start-up would
// make every link sent before a restart useless.
func NewRefundTokenKey() []byte {
	key := make([]byte, MinRefundTokenKeyLen)
	_, _ = rand.Read(key) // never fails (crypto/rand.Read panics rather)
	return key
}

// copyRefundKeys validates the configured keys and returns the engine's
// own copy of them.
func copyRefundKeys(keys [][]byte) ([][]byte, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: RefundTokenKeys is required: at least one secret key of %d bytes or more, "+
			"the same on every engine sharing the store (see NewRefundTokenKey)", ErrConfig, MinRefundTokenKeyLen)
	}
	out := make([][]byte, len(keys))
	for i, k := range keys {
		if len(k) < MinRefundTokenKeyLen {
			return nil, fmt.Errorf("%w: RefundTokenKeys[%d] has %d bytes, fewer than %d", ErrConfig, i, len(k), MinRefundTokenKeyLen)
		}
		out[i] = append([]byte(nil), k...)
	}
	return out, nil
}

// redactedError is an error whose text had a secret cut out. It unwraps
// to the original so that errors.As still finds, for example, an HTTP
// status; only the engine sees it, and the engine stores and logs only the
// text.
type redactedError struct {
	msg string
	err error
}

func (r *redactedError) Error() string { return r.msg }
func (r *redactedError) Unwrap() error { return r.err }

// redactToken returns err with every occurrence of token in its text
// replaced, so that neither the attempt log nor a log line keeps it.
func redactToken(err error, token string) error {
	if err == nil || token == "" {
		return err
	}
	msg := err.Error()
	if !strings.Contains(msg, token) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(msg, token, refundTokenPrefix+"[redacted]"), err: err}
}

// notifyCustomer hands a notice to the CustomerNotifier with its token,
// which exists only for this call. Whatever comes back, an error or a
// panic, has the token cut out of its text before the engine logs it or
// stores it in the attempt log.
func (e *Engine) notifyCustomer(ctx context.Context, stored *RefundNotice) (err error) {
	n := *stored
	n.Token = e.refundToken(n.InvoiceID, n.ClaimID)
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("invoice: customer notifier panicked: %v: %w", p, ErrPanic)
		}
		err = redactToken(err, n.Token)
	}()
	return e.cfg.CustomerNotifier.NotifyCustomer(ctx, &n)
}
