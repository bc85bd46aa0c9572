package pgstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	invoice "github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/pgstore"
)

// dumpSchema returns the text of every row of every table of the schema.
func dumpSchema(t *testing.T, s *pgstore.Store) string {
	t.Helper()
	ident := pgx.Identifier{s.Schema()}.Sanitize()
	var b strings.Builder
	for _, table := range []string{"invoices", "deliveries", "schema_version"} {
		var text *string
		require.NoError(t, s.Pool().QueryRow(bg(), "SELECT string_agg(t::text, E'\\n') FROM "+ident+"."+table+" t").Scan(&text))
		if text != nil {
			b.WriteString(*text)
		}
	}
	return b.String()
}

// TestRefundFlowOnPostgres runs the whole refund flow on PostgreSQL with
// the default configuration: the notice is delivered with a token that
// appears in no row of the database, even after a failed attempt whose
// error quoted it; redeeming records the payout; the claim is listed until
// paid.
func TestRefundFlowOnPostgres(t *testing.T) {
	s := newStore(t)
	var (
		mu      sync.Mutex
		tokens  []string
		payouts []invoice.RefundPayout
	)
	clock := invoicetest.NewClock(invoicetest.Epoch)
	h := newEngine(t, s, clock, invoicetest.DefaultIDs, func(c *invoice.Config) {
		c.CustomerNotifier = invoice.CustomerNotifierFunc(func(_ context.Context, n *invoice.RefundNotice) error {
			mu.Lock()
			defer mu.Unlock()
			tokens = append(tokens, n.Token)
			if len(tokens) == 1 {
				return fmt.Errorf("mail relay refused a body with %s", n.Token)
			}
			return nil
		})
		c.PayoutNotifier = invoice.PayoutNotifierFunc(func(_ context.Context, p *invoice.RefundPayout) error {
			mu.Lock()
			defer mu.Unlock()
			payouts = append(payouts, *p)
			return nil
		})
	})
	_, err := h.Engine.Create(bg(), timerRequest("o-1"))
	require.NoError(t, err)
	_, err = h.Engine.ReportTransaction(bg(), "o-1", invoice.TransactionReport{
		TxID: "tx1", Currency: "BTC", Amount: dec("0.00216667"), Confirmations: 2, Status: invoice.TxConfirmed,
	})
	require.NoError(t, err)
	for range 2 {
		_, err = h.Engine.DeliverDue(bg())
		require.NoError(t, err)
		clock.Advance(time.Hour)
	}
	require.Len(t, tokens, 2)
	token := tokens[0]
	require.Equal(t, token, tokens[1])
	secret := token[len(token)-20:]
	dump := dumpSchema(t, s)
	require.Contains(t, dump, "rc2_[redacted]", "the attempt log keeps the error without the token")
	require.NotContains(t, dump, secret, "no row holds the token")

	info, err := h.Engine.LookupRefundClaim(bg(), token)
	require.NoError(t, err)
	require.Equal(t, "o-1", info.ForeignID)
	require.Equal(t, "0.0005", info.Amount.String())
	claim, err := h.Engine.RedeemRefundClaim(bg(), token, "bc1qcustomer")
	require.NoError(t, err)
	page, err := h.Engine.RefundClaimsAwaitingPayout(bg(), invoice.PayoutListOptions{})
	require.NoError(t, err)
	require.Len(t, page.Payouts, 1)
	require.Equal(t, claim.ID, page.Payouts[0].ClaimID)
	_, err = h.Engine.DeliverDue(bg())
	require.NoError(t, err)
	require.Len(t, payouts, 1)
	require.Equal(t, page.Payouts[0], payouts[0])
	require.Equal(t, "bc1qcustomer", payouts[0].Destination)

	_, err = h.Engine.MarkRefundClaimPaid(bg(), "o-1", claim.ID, "payout-txid")
	require.NoError(t, err)
	_, err = h.Engine.MarkRefundClaimPaid(bg(), "o-1", claim.ID, "payout-txid")
	require.NoError(t, err, "idempotent")
	page, err = h.Engine.RefundClaimsAwaitingPayout(bg(), invoice.PayoutListOptions{})
	require.NoError(t, err)
	require.Empty(t, page.Payouts)
	_, err = h.Engine.RedeemRefundClaim(bg(), token, "bc1qother")
	require.ErrorIs(t, err, invoice.ErrRefundClaimRedeemed)
	require.NotContains(t, dumpSchema(t, s), secret)
}

// TestAwaitingPayoutUsesIndex: ListAwaitingPayout's statement can be
// answered from the partial index, which holds only the invoices awaiting
// payout (with sequential scans priced out, the plan must name it).
func TestAwaitingPayoutUsesIndex(t *testing.T) {
	s := newStore(t)
	ident := pgx.Identifier{s.Schema()}.Sanitize()
	_, err := s.Pool().Exec(bg(), `INSERT INTO `+ident+`.invoices (id, foreign_id, type, payment_mode, amount,
		sender_amount, rate, status, version, refund_claims)
	SELECT gen_random_uuid(), 'bulk-' || i, 'timer_currency', 'fill_or_kill', 10, 0.001, 10000, 'failed', 1,
		CASE WHEN i % 100 = 0 THEN '[{"id": "`+uuid.NewString()+`", "status": "redeemed"}]'::jsonb END
	FROM generate_series(1, 5000) i`)
	require.NoError(t, err)
	var indexed int
	require.NoError(t, s.Pool().QueryRow(bg(), `SELECT count(*) FROM `+ident+`.invoices
		WHERE refund_claims @> '[{"status": "redeemed"}]'`).Scan(&indexed))
	require.Equal(t, 50, indexed)
	_, err = s.Pool().Exec(bg(), "ANALYZE "+ident+".invoices")
	require.NoError(t, err)

	tx, err := s.Pool().Begin(bg())
	require.NoError(t, err)
	defer tx.Rollback(bg())
	_, err = tx.Exec(bg(), "SET LOCAL enable_seqscan = off")
	require.NoError(t, err)
	rows, err := tx.Query(bg(), "EXPLAIN "+pgstore.AwaitingPayoutSQL(s), uuid.Nil, 100)
	require.NoError(t, err)
	var plan []string
	for rows.Next() {
		var line string
		require.NoError(t, rows.Scan(&line))
		plan = append(plan, line)
	}
	require.NoError(t, rows.Err())
	require.Contains(t, strings.Join(plan, "\n"), "invoices_awaiting_payout_idx", "plan:\n%s", strings.Join(plan, "\n"))

	got, err := s.ListAwaitingPayout(bg(), uuid.Nil, 1000)
	require.NoError(t, err)
	require.Len(t, got, 50)
}

// TestUpgradeRefundClaimsFromV2 migrates a schema of version 2 (before
// refund tokens were derived) holding a claim of the first format, its
// notices with plain tokens (one delivered, one pending) and an attempt
// log quoting a token, plus a claim already redeemed: the migration
// removes every plain token, the token already sent still redeems, the
// pending notice is delivered with a derived token that redeems, and the
// redeemed claim is listed for payout.
func TestUpgradeRefundClaimsFromV2(t *testing.T) {
	pool := requireDB(t)
	schema := freshSchema(t, pool)
	s, err := pgstore.New(pool, pgstore.WithSchema(schema))
	require.NoError(t, err)
	require.NoError(t, pgstore.MigrateTo(bg(), s, 2))
	ident := pgx.Identifier{schema}.Sanitize()

	inv := newInvoice(t, "old-1")
	inv.Status = invoice.StatusConfirmed
	legacy := func(claimID uuid.UUID) (token, hash string) {
		var ids [32]byte
		copy(ids[:16], inv.ID[:])
		copy(ids[16:], claimID[:])
		token = "rc_" + base64.RawURLEncoding.EncodeToString(ids[:]) + "_" + "JBSWY3DPEHPK3PXPJBSWY3DPEH"
		sum := sha256.Sum256([]byte(token))
		return token, hex.EncodeToString(sum[:])
	}
	sentID, pendingID, redeemedID := newID(t), newID(t), newID(t)
	sentToken, sentHash := legacy(sentID)
	pendingToken, pendingHash := legacy(pendingID)
	_, redeemedHash := legacy(redeemedID)
	claim := func(id uuid.UUID, hash string, st invoice.RefundClaimStatus) invoice.RefundClaim {
		rc := invoice.RefundClaim{ID: id, Amount: dec("0.0001"), Currency: "BTC", Reason: "Overpayment.",
			TokenHash: hash, Status: st, CreatedAt: base}
		if st == invoice.RefundRedeemed {
			rc.Destination, rc.RedeemedAt = "bc1qearlier", base.Add(time.Minute)
		}
		return rc
	}
	inv.RefundClaims = []invoice.RefundClaim{
		claim(sentID, sentHash, invoice.RefundOpen),
		claim(pendingID, pendingHash, invoice.RefundOpen),
		claim(redeemedID, redeemedHash, invoice.RefundRedeemed),
	}
	require.NoError(t, s.CreateInvoice(bg(), inv))
	notice := func(claimID uuid.UUID, token string) string {
		return fmt.Sprintf(`{"claim_id": %q, "invoice_id": %q, "foreign_id": "old-1", "email": "buyer@example.com",
			"amount": "0.0001", "currency": "BTC", "reason": "Overpayment.", "token": %q}`, claimID, inv.ID, token)
	}
	insert := `INSERT INTO ` + ident + `.deliveries (id, invoice_id, channel, seq, notice, state, created_at,
		next_attempt_at, attempts, ready_at) VALUES ($1, $2, 'customer', $3, $4::text::jsonb, $5, $6, $6, $7::text::jsonb, $6)`
	attempts := fmt.Sprintf(`[{"at": "2026-01-02T03:04:05Z", "duration": 1000, "error": "smtp refused %s"}]`, sentToken)
	_, err = pool.Exec(bg(), insert, newID(t), inv.ID, 1, notice(sentID, sentToken), "delivered", base, attempts)
	require.NoError(t, err)
	_, err = pool.Exec(bg(), insert, newID(t), inv.ID, 2, notice(pendingID, pendingToken), "pending", base, "[]")
	require.NoError(t, err)
	require.Contains(t, dumpSchema(t, s), sentToken, "the old schema kept plain tokens")

	require.NoError(t, s.Migrate(bg()))
	v, err := s.Version(bg())
	require.NoError(t, err)
	require.Equal(t, pgstore.SchemaVersion(), v)
	dump := dumpSchema(t, s)
	for _, tok := range []string{sentToken, pendingToken} {
		require.NotContains(t, dump, tok)
		require.NotContains(t, dump, tok[len(tok)-26:])
	}
	require.Contains(t, dump, "rc_[redacted]")

	got, err := s.ListAwaitingPayout(bg(), uuid.Nil, 10)
	require.NoError(t, err)
	require.Len(t, got, 1, "the claim redeemed before the upgrade awaits payout")
	require.Equal(t, inv.ID, got[0].ID)

	var delivered []string
	h := newEngine(t, s, invoicetest.NewClock(base.Add(time.Hour)), func(c *invoice.Config) {
		c.CustomerNotifier = invoice.CustomerNotifierFunc(func(_ context.Context, n *invoice.RefundNotice) error {
			delivered = append(delivered, n.Token)
			return nil
		})
	})
	_, err = h.Engine.DeliverDue(bg())
	require.NoError(t, err)
	require.Len(t, delivered, 1, "the pending notice")
	require.True(t, strings.HasPrefix(delivered[0], "rc2_"), delivered[0])
	_, err = h.Engine.RedeemRefundClaim(bg(), delivered[0], "bc1qpending")
	require.NoError(t, err)
	_, err = h.Engine.RedeemRefundClaim(bg(), sentToken, "bc1qsent")
	require.NoError(t, err, "the link sent before the upgrade still redeems")
	page, err := h.Engine.RefundClaimsAwaitingPayout(bg(), invoice.PayoutListOptions{})
	require.NoError(t, err)
	var dests []string
	for _, p := range page.Payouts {
		dests = append(dests, p.Destination)
	}
	require.Equal(t, []string{"bc1qsent", "bc1qpending", "bc1qearlier"}, dests)
}
