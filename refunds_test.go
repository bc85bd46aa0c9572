package invoice_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
)

// idSources runs a test under the deterministic sequential IDs and fixed
// key of invoicetest, and under the engine's default configuration
// (UUIDv7 IDs, a random key from crypto/rand).
var idSources = []struct {
	name string
	opt  func(*invoice.Config)
}{
	{"SequentialIDs", func(*invoice.Config) {}},
	{"DefaultIDs", invoicetest.DefaultIDs},
}

func forEachIDSource(t *testing.T, fn func(t *testing.T, opts ...func(*invoice.Config))) {
	for _, src := range idSources {
		t.Run(src.name, func(t *testing.T) { fn(t, src.opt) })
	}
}

// overpaid creates a pending BTC invoice and overpays it by 0.0005 BTC:
// one open refund claim, whose notice is delivered. It returns the token.
func overpaid(t *testing.T, h *invoicetest.Harness, foreignID string) string {
	t.Helper()
	create(t, h, typ3(foreignID))
	report(t, h, foreignID, "tx-"+foreignID, "0.00216667", invoice.TxConfirmed)
	_, err := h.Engine.DeliverDue(ctx)
	require.NoError(t, err)
	notices := h.Customers.Notices(foreignID)
	require.Len(t, notices, 1)
	return notices[0].Token
}

func TestRefundTokenShape(t *testing.T) {
	forEachIDSource(t, func(t *testing.T, opts ...func(*invoice.Config)) {
		h := invoicetest.New(t, opts...)
		token := overpaid(t, h, "o-1")
		require.Len(t, token, 68)
		require.True(t, strings.HasPrefix(token, "rc2_"), token)
		raw, err := base64.RawURLEncoding.Strict().DecodeString(token[4:])
		require.NoError(t, err)
		require.Len(t, raw, 48, "invoice ID, claim ID, 128-bit tag")
		inv, err := h.Engine.Get(ctx, "o-1")
		require.NoError(t, err)
		require.Equal(t, inv.ID[:], raw[:16])
		require.Equal(t, inv.RefundClaims[0].ID[:], raw[16:32])
	})
}

// TestRefundTokensAlwaysRedeem is the property test: every claim of a
// large run under the default configuration redeems with the token its
// customer received, once. 10,000 failed invoices each receive 10 late
// confirmed payments, each refunded by its own claim: 100,000 claims.
// Under the race detector (about 20 times slower, and the property
// involves no concurrency) it runs 10,000 claims; .ci/run also runs it
// without the detector, so CI always proves the full 100,000.
func TestRefundTokensAlwaysRedeem(t *testing.T) {
	invoices, perInvoice := 10_000, 10
	if raceDetector {
		invoices = 1_000
	}
	h := invoicetest.New(t, invoicetest.DefaultIDs)
	parallel(t, invoices, func(i int) error {
		id := fmt.Sprint("late-", i)
		if _, err := h.Engine.Create(ctx, typ3(id)); err != nil {
			return err
		}
		if _, err := h.Engine.Cancel(ctx, id); err != nil {
			return err
		}
		for j := range perInvoice {
			_, err := h.Engine.ReportTransaction(ctx, id, invoice.TransactionReport{
				TxID: fmt.Sprint(id, "-", j), Currency: "BTC", Amount: dec("0.0001"), Confirmations: 1, Status: invoice.TxConfirmed,
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	_, err := h.Engine.DeliverDue(ctx)
	require.NoError(t, err)

	var tokens []string
	withUnderscore := 0
	perID := map[string]int{}
	notices := h.Customers.Notices("")
	for _, n := range notices {
		perID[n.ForeignID]++
	}
	require.Len(t, perID, invoices)
	for id, k := range perID {
		require.Equal(t, perInvoice, k, id)
	}
	{
		for _, n := range notices {
			tokens = append(tokens, n.Token)
			var ids [32]byte
			copy(ids[:16], n.InvoiceID[:])
			copy(ids[16:], n.ClaimID[:])
			if strings.Contains(base64.RawURLEncoding.EncodeToString(ids[:]), "_") {
				withUnderscore++
			}
		}
	}
	require.Len(t, tokens, invoices*perInvoice)
	t.Logf("%d claims; %d of them have IDs whose base64url holds a '_' (the first token format could not redeem those)",
		len(tokens), withUnderscore)
	require.Positive(t, withUnderscore, "the run covers the IDs that broke the first format")

	parallel(t, len(tokens), func(i int) error {
		claim, err := h.Engine.RedeemRefundClaim(ctx, tokens[i], "bc1qrefund")
		if err != nil {
			return fmt.Errorf("token %d (%s…) does not redeem: %w", i, tokens[i][:12], err)
		}
		if claim.Status != invoice.RefundRedeemed {
			return fmt.Errorf("token %d: status %s", i, claim.Status)
		}
		return nil
	})
	for _, i := range []int{0, len(tokens) / 2, len(tokens) - 1} {
		_, err := h.Engine.RedeemRefundClaim(ctx, tokens[i], "bc1qother")
		require.ErrorIs(t, err, invoice.ErrRefundClaimRedeemed, "never twice")
	}
}

// parallel runs fn(0..n-1) on a few goroutines and fails on the first error.
func parallel(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	const workers = 4
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, first)
}

// echoingNotifier fails its first attempt for each notice with an error
// that quotes the token (as a careless mail client might), and panics with
// it once, then succeeds.
type echoingNotifier struct {
	mu      sync.Mutex
	calls   int
	tokens  []string
	notices []invoice.RefundNotice
}

func (n *echoingNotifier) NotifyCustomer(_ context.Context, rn *invoice.RefundNotice) error {
	n.mu.Lock()
	n.calls++
	call := n.calls
	n.tokens = append(n.tokens, rn.Token)
	n.notices = append(n.notices, *rn)
	n.mu.Unlock()
	switch call {
	case 1:
		return fmt.Errorf("smtp: 554 rejected message body containing https://shop.example/refund/%s", rn.Token)
	case 2:
		panic("mail template failed on " + rn.Token)
	}
	return nil
}

// TestRefundNoSecretAtRest: after a claim's notice was attempted three
// times (an error quoting the token, a panic quoting it, success), and
// the claim was looked up, redeemed and paid, nothing the store holds,
// nothing an Engine method returns and no log line contains the token or
// its secret part; the token still redeems.
func TestRefundNoSecretAtRest(t *testing.T) {
	forEachIDSource(t, func(t *testing.T, opts ...func(*invoice.Config)) {
		var logs bytes.Buffer
		customers := &echoingNotifier{}
		var payouts []*invoice.RefundPayout
		h := invoicetest.New(t, append(opts, func(c *invoice.Config) {
			c.CustomerNotifier = customers
			c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			c.PayoutNotifier = invoice.PayoutNotifierFunc(func(_ context.Context, p *invoice.RefundPayout) error {
				payouts = append(payouts, p)
				return nil
			})
		})...)
		create(t, h, typ3("o-1"))
		report(t, h, "o-1", "tx1", "0.00216667", invoice.TxConfirmed)
		for range 3 {
			_, err := h.Engine.DeliverDue(ctx)
			require.NoError(t, err)
			h.Clock.Advance(time.Hour)
		}
		require.Len(t, customers.tokens, 3, "retried until acknowledged")
		token := customers.tokens[0]
		require.Equal(t, []string{token, token, token}, customers.tokens, "the same token on every attempt")

		var dump []any // everything the engine and the store hand out
		keep := func(v any, err error) {
			t.Helper()
			require.NoError(t, err)
			dump = append(dump, v)
		}
		keep(h.Engine.LookupRefundClaim(ctx, token))
		claim, err := h.Engine.RedeemRefundClaim(ctx, token, "bc1qcustomer")
		keep(claim, err)
		_, err = h.Engine.RedeemRefundClaim(ctx, token, "bc1qcustomer")
		require.ErrorIs(t, err, invoice.ErrRefundClaimRedeemed)
		dump = append(dump, err.Error())
		_, err = h.Engine.DeliverDue(ctx)
		require.NoError(t, err)
		require.Len(t, payouts, 1)
		dump = append(dump, payouts)
		keep(h.Engine.RefundClaimsAwaitingPayout(ctx, invoice.PayoutListOptions{}))
		keep(h.Engine.MarkRefundClaimPaid(ctx, "o-1", claim.ID, "payout-tx"))
		keep(h.Engine.Get(ctx, "o-1"))
		keep(h.Engine.List(ctx, invoice.ListOptions{}))
		ds, err := h.Engine.Deliveries(ctx, "o-1")
		keep(ds, err)
		var attempts []string
		for _, d := range ds {
			keep(h.Engine.Delivery(ctx, d.ID))
			if d.Channel == invoice.ChannelCustomer {
				require.NotNil(t, d.Notice)
				require.Empty(t, d.Notice.Token, "the stored notice has no token")
				for _, a := range d.Attempts {
					attempts = append(attempts, a.Error)
				}
			}
		}
		require.Len(t, attempts, 3)
		require.Contains(t, attempts[0], "rc2_[redacted]", "the error is kept, without the token")
		require.Contains(t, attempts[1], "panicked")
		require.Contains(t, attempts[1], "rc2_[redacted]")
		keep(h.Store.ListInvoices(ctx, invoice.ListQuery{Limit: 100}))
		keep(h.Store.ListDeliveries(ctx, invoice.DeliveryQuery{Limit: 100}))

		b, err := json.Marshal(dump)
		require.NoError(t, err)
		all := string(b) + logs.String()
		require.Contains(t, logs.String(), "delivery failed", "the failures were logged")
		secret := token[len(token)-20:] // tag bytes only
		require.NotContains(t, all, token)
		require.NotContains(t, all, secret)
		require.NotContains(t, fmt.Sprintf("%+v", dump), secret)
	})
}

func TestRefundTokenRejectionIsUniform(t *testing.T) {
	forEachIDSource(t, func(t *testing.T, opts ...func(*invoice.Config)) {
		h := invoicetest.New(t, opts...)
		token := overpaid(t, h, "o-1")
		other := overpaid(t, h, "o-2")
		inv, err := h.Engine.Get(ctx, "o-1")
		require.NoError(t, err)
		claimID := inv.RefundClaims[0].ID

		raw, err := base64.RawURLEncoding.DecodeString(token[4:])
		require.NoError(t, err)
		otherRaw, err := base64.RawURLEncoding.DecodeString(other[4:])
		require.NoError(t, err)
		splice := func(parts ...[]byte) string {
			return "rc2_" + base64.RawURLEncoding.EncodeToString(bytes.Join(parts, nil))
		}
		flipped := append([]byte(nil), raw...)
		flipped[47] ^= 1
		otherKey := invoicetest.New(t, func(c *invoice.Config) {
			c.Store = h.Store
			c.RefundTokenKeys = [][]byte{invoice.NewRefundTokenKey()}
		})
		legacyIDs := base64.RawURLEncoding.EncodeToString(raw[:32])
		bad := map[string]string{
			"empty":                  "",
			"garbage":                "garbage",
			"prefix only":            "rc2_",
			"one character short":    token[:len(token)-1],
			"one character more":     token + "A",
			"not base64url":          token[:len(token)-1] + "=",
			"padded":                 token[:len(token)-2] + "==",
			"surrounding space":      " " + token,
			"lower-cased":            strings.ToLower(token),
			"tag flipped":            splice(flipped),
			"tag cut":                splice(raw[:40]),
			"another invoice's":      splice(otherRaw[:16], raw[16:]),
			"claim of another":       splice(raw[:16], otherRaw[16:32], raw[32:]),
			"tag of another claim":   splice(raw[:32], otherRaw[32:]),
			"another key":            invoice.RefundTokenFor(otherKey.Engine, inv.ID, claimID),
			"unknown invoice":        invoice.RefundTokenFor(h.Engine, uuid.New(), claimID),
			"unknown claim":          invoice.RefundTokenFor(h.Engine, inv.ID, uuid.New()),
			"first format, no hash":  "rc_" + legacyIDs + "_ABCDEFGHIJKLMNOPQRSTUVWXYZ",
			"first format, bad ids":  "rc_" + strings.Repeat("!", 43) + "_ABCDEFGHIJKLMNOPQRSTUVWXYZ",
			"first format truncated": "rc_" + legacyIDs,
		}
		for name, tok := range bad {
			_, err := h.Engine.RedeemRefundClaim(ctx, tok, "bc1qattacker")
			require.Truef(t, err == invoice.ErrRefundClaim, "%s: redeem: want ErrRefundClaim itself, got %v", name, err)
			_, err = h.Engine.LookupRefundClaim(ctx, tok)
			require.Truef(t, err == invoice.ErrRefundClaim, "%s: look-up: want ErrRefundClaim itself, got %v", name, err)
			_, err = h.Engine.RedeemRefundClaim(ctx, tok, "") // a bad address too: still the same
			require.Truef(t, err == invoice.ErrRefundClaim, "%s: redeem with a bad address: got %v", name, err)
		}
		for _, tok := range []string{token, other} {
			info, err := h.Engine.LookupRefundClaim(ctx, tok)
			require.NoError(t, err, "nothing above redeemed or changed the genuine claims")
			require.Equal(t, invoice.RefundOpen, info.Status)
		}
		_, err = h.Engine.RedeemRefundClaim(ctx, token, "bc1qcustomer")
		require.NoError(t, err)
		_, err = h.Engine.RedeemRefundClaim(ctx, token, "bc1qcustomer")
		require.ErrorIs(t, err, invoice.ErrRefundClaimRedeemed, "a genuine token may say it was used")
		require.ErrorIs(t, err, invoice.ErrRefundClaim)
	})
}

func TestRefundTokenKeyRotation(t *testing.T) {
	oldKey, newKey := invoice.NewRefundTokenKey(), invoice.NewRefundTokenKey()
	before := invoicetest.New(t, invoicetest.DefaultIDs, func(c *invoice.Config) { c.RefundTokenKeys = [][]byte{oldKey} })
	oldToken := overpaid(t, before, "o-1")
	oldToken2 := overpaid(t, before, "o-2")

	rotated := invoicetest.New(t, invoicetest.DefaultIDs, func(c *invoice.Config) {
		c.Store = before.Store
		c.RefundTokenKeys = [][]byte{newKey, oldKey}
	})
	newToken := overpaid(t, rotated, "o-3")
	_, err := rotated.Engine.LookupRefundClaim(ctx, oldToken)
	require.NoError(t, err, "an old key still verifies")
	_, err = rotated.Engine.RedeemRefundClaim(ctx, oldToken, "bc1qa")
	require.NoError(t, err)
	_, err = before.Engine.LookupRefundClaim(ctx, newToken)
	require.Equal(t, invoice.ErrRefundClaim, err, "new tokens are made under the first key")

	retired := invoicetest.New(t, invoicetest.DefaultIDs, func(c *invoice.Config) {
		c.Store = before.Store
		c.RefundTokenKeys = [][]byte{newKey}
	})
	_, err = retired.Engine.RedeemRefundClaim(ctx, oldToken2, "bc1qa")
	require.Equal(t, invoice.ErrRefundClaim, err, "a removed key no longer verifies")
	_, err = retired.Engine.RedeemRefundClaim(ctx, newToken, "bc1qa")
	require.NoError(t, err)
}

func TestRefundTokenKeysAreRequired(t *testing.T) {
	for name, keys := range map[string][][]byte{
		"none":      nil,
		"empty":     {},
		"short":     {make([]byte, 31)},
		"one short": {invoice.NewRefundTokenKey(), []byte("short")},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := invoicetest.NewHarness(func(c *invoice.Config) { c.RefundTokenKeys = keys })
			require.ErrorIs(t, err, invoice.ErrConfig)
			require.Contains(t, err.Error(), "RefundTokenKeys")
		})
	}
	key := invoice.NewRefundTokenKey()
	require.Len(t, key, invoice.MinRefundTokenKeyLen)
	require.NotEqual(t, key, invoice.NewRefundTokenKey())

	// The engine keeps its own copy of the keys.
	keys := [][]byte{invoice.NewRefundTokenKey()}
	h := invoicetest.New(t, func(c *invoice.Config) { c.RefundTokenKeys = keys })
	token := overpaid(t, h, "o-1")
	keys[0][0] ^= 0xff
	_, err := h.Engine.LookupRefundClaim(ctx, token)
	require.NoError(t, err)
}

func TestRefundClaimLookup(t *testing.T) {
	forEachIDSource(t, func(t *testing.T, opts ...func(*invoice.Config)) {
		h := invoicetest.New(t, opts...)
		token := overpaid(t, h, "o-1")
		inv, err := h.Engine.Get(ctx, "o-1")
		require.NoError(t, err)
		rc := inv.RefundClaims[0]
		info, err := h.Engine.LookupRefundClaim(ctx, token)
		require.NoError(t, err)
		require.Equal(t, &invoice.RefundClaimInfo{
			ClaimID: rc.ID, InvoiceID: inv.ID, ForeignID: "o-1", Title: "Order o-1",
			Amount: rc.Amount, Currency: "BTC", Reason: invoice.RefundReasonOverpaid,
			Status: invoice.RefundOpen, CreatedAt: rc.CreatedAt,
		}, info)
		after, err := h.Engine.Get(ctx, "o-1")
		require.NoError(t, err)
		require.Equal(t, inv.Version, after.Version, "looking up changes nothing")

		h.Clock.Advance(time.Minute)
		_, err = h.Engine.RedeemRefundClaim(ctx, token, "  bc1qcustomer\n")
		require.NoError(t, err)
		info, err = h.Engine.LookupRefundClaim(ctx, token)
		require.NoError(t, err, "a redeemed claim can still be looked up")
		require.Equal(t, invoice.RefundRedeemed, info.Status)
		require.Equal(t, "bc1qcustomer", info.Destination, "trimmed")
		require.Equal(t, h.Clock.Now().UTC(), info.RedeemedAt)
		_, err = h.Engine.MarkRefundClaimPaid(ctx, "o-1", rc.ID, "payout-tx")
		require.NoError(t, err)
		info, err = h.Engine.LookupRefundClaim(ctx, token)
		require.NoError(t, err)
		require.Equal(t, invoice.RefundPaid, info.Status)
		require.False(t, info.PaidAt.IsZero())
	})
}

func TestRefundDestinationValidation(t *testing.T) {
	var calls []string
	h := invoicetest.New(t, func(c *invoice.Config) {
		c.DestinationValidators = map[string]invoice.DestinationValidator{
			"BTC": func(address string) error {
				calls = append(calls, address)
				if !strings.HasPrefix(address, "bc1") {
					return errors.New("it must start with bc1")
				}
				return nil
			},
			"ETH": func(string) error { return errors.New("never called for BTC claims") },
		}
	})
	for _, tc := range []struct {
		name, address, message string
	}{
		{"empty", "", "The address is required."},
		{"blank", " \t\n", "The address is required."},
		{"too long", "bc1" + strings.Repeat("q", 253), "The address may not be greater than 255 characters."},
		{"inner space", "bc1q abc", "The address format is invalid."},
		{"control character", "bc1q\x00abc", "The address format is invalid."},
		{"escape sequence", "bc1q\x1b[31m", "The address format is invalid."},
		{"invalid UTF-8", "bc1q\xffabc", "The address format is invalid."},
		{"zero-width space", "bc1q\u200babc", "The address format is invalid."},
		{"refused by the validator", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "The address is not a valid BTC address: it must start with bc1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls = nil
			err := h.Engine.CheckRefundDestination("BTC", tc.address)
			var ve *invoice.ValidationError
			require.ErrorAs(t, err, &ve)
			require.ErrorIs(t, err, invoice.ErrValidation)
			require.Equal(t, tc.message, ve.Field("address"))
			require.Len(t, ve.Fields, 1)
			if !strings.HasPrefix(tc.message, "The address is not a valid") {
				require.Empty(t, calls, "the validator sees only addresses that passed the default check")
			}
		})
	}
	calls = nil
	require.NoError(t, h.Engine.CheckRefundDestination("BTC", " bc1qok "))
	require.Equal(t, []string{"bc1qok"}, calls, "the validator gets the trimmed address")
	require.NoError(t, h.Engine.CheckRefundDestination("LTC", "anything-printable"), "no validator: default check only")
	require.Error(t, h.Engine.CheckRefundDestination("ETH", "0xabc"))

	token := overpaid(t, h, "o-1")
	_, err := h.Engine.RedeemRefundClaim(ctx, token, "1BoatSLRHtKNngkdXEeobR76b53LETtpyT")
	var ve *invoice.ValidationError
	require.ErrorAs(t, err, &ve)
	require.NotEmpty(t, ve.Field("address"))
	info, err := h.Engine.LookupRefundClaim(ctx, token)
	require.NoError(t, err)
	require.Equal(t, invoice.RefundOpen, info.Status, "a refused address redeems nothing")
	_, err = h.Engine.RedeemRefundClaim(ctx, token, "bc1qgood")
	require.NoError(t, err)
}

func TestRefundPayoutFlow(t *testing.T) {
	forEachIDSource(t, func(t *testing.T, opts ...func(*invoice.Config)) {
		var got []invoice.RefundPayout
		failFirst := true
		h := invoicetest.New(t, append(opts, func(c *invoice.Config) {
			c.PayoutNotifier = invoice.PayoutNotifierFunc(func(_ context.Context, p *invoice.RefundPayout) error {
				if failFirst {
					failFirst = false
					return errors.New("payout system down")
				}
				got = append(got, *p)
				return nil
			})
		})...)
		token := overpaid(t, h, "o-1")
		inv, err := h.Engine.Get(ctx, "o-1")
		require.NoError(t, err)
		rc := inv.RefundClaims[0]

		claim, err := h.Engine.RedeemRefundClaim(ctx, token, "bc1qcustomer")
		require.NoError(t, err)
		want := invoice.RefundPayout{
			ClaimID: rc.ID, InvoiceID: inv.ID, ForeignID: "o-1", Amount: rc.Amount, Currency: "BTC",
			Destination: "bc1qcustomer", Reason: invoice.RefundReasonOverpaid, RedeemedAt: claim.RedeemedAt,
		}
		// Recorded with the redemption, before any delivery runs.
		ds, err := h.Engine.Deliveries(ctx, "o-1")
		require.NoError(t, err)
		var payoutDs []*invoice.Delivery
		for _, d := range ds {
			if d.Channel == invoice.ChannelPayout {
				payoutDs = append(payoutDs, d)
			}
		}
		require.Len(t, payoutDs, 1)
		require.Equal(t, invoice.DeliveryPending, payoutDs[0].State)
		require.Equal(t, &want, payoutDs[0].Payout)

		page, err := h.Engine.RefundClaimsAwaitingPayout(ctx, invoice.PayoutListOptions{})
		require.NoError(t, err)
		require.Equal(t, invoice.PayoutPage{Payouts: []invoice.RefundPayout{want}}, page)

		_, err = h.Engine.DeliverDue(ctx)
		require.NoError(t, err)
		require.Empty(t, got, "the first attempt failed")
		h.Clock.Advance(time.Minute)
		_, err = h.Engine.DeliverDue(ctx)
		require.NoError(t, err)
		require.Equal(t, []invoice.RefundPayout{want}, got, "retried like a callback")

		_, err = h.Engine.MarkRefundClaimPaid(ctx, "o-1", rc.ID, "")
		var ve *invoice.ValidationError
		require.ErrorAs(t, err, &ve)
		require.NotEmpty(t, ve.Field("payout_ref"))
		paid, err := h.Engine.MarkRefundClaimPaid(ctx, "o-1", rc.ID, "txid-1")
		require.NoError(t, err)
		require.Equal(t, invoice.RefundPaid, paid.Status)
		require.Equal(t, "txid-1", paid.PayoutRef)
		v := version(t, h, "o-1")
		again, err := h.Engine.MarkRefundClaimPaid(ctx, "o-1", rc.ID, "txid-1")
		require.NoError(t, err)
		require.Equal(t, paid, again)
		require.Equal(t, v, version(t, h, "o-1"), "the repeat stores nothing")
		_, err = h.Engine.MarkRefundClaimPaid(ctx, "o-1", rc.ID, "txid-2")
		require.ErrorIs(t, err, invoice.ErrRefundClaim)
		_, err = h.Engine.MarkRefundClaimPaid(ctx, "o-1", uuid.New(), "txid-1")
		require.ErrorIs(t, err, invoice.ErrNotFound)

		page, err = h.Engine.RefundClaimsAwaitingPayout(ctx, invoice.PayoutListOptions{})
		require.NoError(t, err)
		require.Empty(t, page.Payouts, "paid claims are no longer listed")

		// An open claim cannot be paid.
		overpaid(t, h, "o-2")
		inv2, err := h.Engine.Get(ctx, "o-2")
		require.NoError(t, err)
		_, err = h.Engine.MarkRefundClaimPaid(ctx, "o-2", inv2.RefundClaims[0].ID, "txid-3")
		require.ErrorIs(t, err, invoice.ErrRefundClaim)
	})
}

func version(t *testing.T, h *invoicetest.Harness, foreignID string) int64 {
	t.Helper()
	inv, err := h.Engine.Get(ctx, foreignID)
	require.NoError(t, err)
	return inv.Version
}

func TestRefundWithoutPayoutNotifierRecordsNoPayoutDelivery(t *testing.T) {
	h := invoicetest.New(t)
	token := overpaid(t, h, "o-1")
	_, err := h.Engine.RedeemRefundClaim(ctx, token, "bc1qcustomer")
	require.NoError(t, err)
	ds, err := h.Engine.Deliveries(ctx, "o-1")
	require.NoError(t, err)
	for _, d := range ds {
		require.NotEqual(t, invoice.ChannelPayout, d.Channel)
	}
	page, err := h.Engine.RefundClaimsAwaitingPayout(ctx, invoice.PayoutListOptions{})
	require.NoError(t, err)
	require.Len(t, page.Payouts, 1, "the pull list serves instead")
}

func TestRefundClaimsAwaitingPayoutPaging(t *testing.T) {
	forEachIDSource(t, func(t *testing.T, opts ...func(*invoice.Config)) {
		h := invoicetest.New(t, opts...)
		var want []uuid.UUID
		for i := range 5 {
			id := fmt.Sprint("o-", i)
			create(t, h, typ3(id))
			_, err := h.Engine.Cancel(ctx, id)
			require.NoError(t, err)
			// i late payments, each its own claim; redeem all but the last
			// of each invoice.
			for j := range i + 1 {
				reportIn(t, h, id, fmt.Sprint(id, "-", j), "BTC", "0.0001", invoice.TxConfirmed)
			}
			_, err = h.Engine.DeliverDue(ctx)
			require.NoError(t, err)
			notices := h.Customers.Notices(id)
			require.Len(t, notices, i+1)
			for _, n := range notices[:i] {
				_, err := h.Engine.RedeemRefundClaim(ctx, n.Token, "bc1qdest")
				require.NoError(t, err)
				want = append(want, n.ClaimID)
			}
		}
		require.Len(t, want, 10)
		for _, limit := range []int{1, 2, 3, 4, 10, 11} {
			var got []uuid.UUID
			cursor := ""
			for pages := 0; ; pages++ {
				require.Less(t, pages, 20)
				page, err := h.Engine.RefundClaimsAwaitingPayout(ctx, invoice.PayoutListOptions{Cursor: cursor, Limit: limit})
				require.NoError(t, err)
				require.LessOrEqual(t, len(page.Payouts), limit)
				for _, p := range page.Payouts {
					got = append(got, p.ClaimID)
					require.Equal(t, "bc1qdest", p.Destination)
				}
				if page.NextCursor == "" {
					break
				}
				require.Len(t, page.Payouts, limit, "only the last page is short")
				cursor = page.NextCursor
			}
			require.Equal(t, want, got, "limit %d: every claim once, in order", limit)
		}
		_, err := h.Engine.RefundClaimsAwaitingPayout(ctx, invoice.PayoutListOptions{Cursor: "nope"})
		require.ErrorIs(t, err, invoice.ErrValidation)
	})
}

// TestRefundTokensOfTheFirstFormatStillRedeem: a claim made before tokens
// were derived carries the SHA-256 of its random token; that token
// redeems (also when its IDs encode with a "_", which the first parser
// refused), and a derived token for the same claim does too.
func TestRefundTokensOfTheFirstFormatStillRedeem(t *testing.T) {
	h := invoicetest.New(t, invoicetest.DefaultIDs)
	inv := create(t, h, typ3("o-1"))
	stored, err := h.Store.GetInvoice(ctx, inv.ID)
	require.NoError(t, err)
	var tokens []string
	for len(tokens) < 2 {
		claimID := uuid.New()
		var ids [32]byte
		copy(ids[:16], inv.ID[:])
		copy(ids[16:], claimID[:])
		enc := base64.RawURLEncoding.EncodeToString(ids[:])
		if len(tokens) == 0 && !strings.Contains(enc, "_") {
			continue // the first has a "_" in its IDs
		}
		token := "rc_" + enc + "_" + strings.Repeat("Q", 26)
		sum := sha256.Sum256([]byte(token))
		stored.RefundClaims = append(stored.RefundClaims, invoice.RefundClaim{
			ID: claimID, Amount: dec("0.0001"), Currency: "BTC", Reason: invoice.RefundReasonLate,
			TokenHash: hex.EncodeToString(sum[:]), Status: invoice.RefundOpen, CreatedAt: stored.CreatedAt,
		})
		tokens = append(tokens, token)
	}
	require.NoError(t, h.Store.UpdateInvoice(ctx, stored, nil))

	_, err = h.Engine.RedeemRefundClaim(ctx, tokens[0][:len(tokens[0])-1]+"R", "bc1qdest")
	require.Equal(t, invoice.ErrRefundClaim, err, "a wrong secret")
	info, err := h.Engine.LookupRefundClaim(ctx, tokens[0])
	require.NoError(t, err)
	require.Equal(t, invoice.RefundOpen, info.Status)
	_, err = h.Engine.RedeemRefundClaim(ctx, tokens[0], "bc1qdest")
	require.NoError(t, err)
	derived := invoice.RefundTokenFor(h.Engine, inv.ID, stored.RefundClaims[1].ID)
	_, err = h.Engine.RedeemRefundClaim(ctx, derived, "bc1qdest")
	require.NoError(t, err, "a pending notice of such a claim is delivered with a derived token")
}
