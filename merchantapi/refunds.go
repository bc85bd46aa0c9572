package merchantapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Payout is one refund claim awaiting payout: redeemed by the customer
// (who gave Destination), not yet marked paid.
type Payout struct {
	ClaimID     string `json:"claim_id"`
	ForeignID   string `json:"foreign_id"`
	Amount      string `json:"amount"` // decimal string, at least 8 fraction digits
	Currency    string `json:"currency"`
	Destination string `json:"destination"`
	Reason      string `json:"reason"`
	RedeemedAt  int64  `json:"redeemed_at"` // unix seconds
}

func renderPayout(claimID uuid.UUID, foreignID string, amount decimal.Decimal, currency, dest, reason string, at time.Time) Payout {
	return Payout{ClaimID: claimID.String(), ForeignID: foreignID, Amount: money(amount), Currency: currency,
		Destination: dest, Reason: reason, RedeemedAt: at.Unix()}
}

// RefundClaim is the answer of marking a claim paid.
type RefundClaim struct {
	ClaimID   string `json:"claim_id"`
	ForeignID string `json:"foreign_id"`
	Amount    string `json:"amount"`
	Currency  string `json:"currency"`
	Status    string `json:"status"` // "paid"
	PayoutRef string `json:"payout_ref"`
	PaidAt    int64  `json:"paid_at"` // unix seconds
}

// markPaid serves POST /invoices/{foreign_id}/refund-claims/{claim_id}/paid
// with {"payout_ref": "..."}. It is idempotent: the same reference again
// answers the paid claim unchanged (a payout worker may retry).
func (h *Handler) markPaid(rq *request) (int, any, *apiError) {
	var f struct {
		PayoutRef json.RawMessage `json:"payout_ref"`
	}
	if aerr := decodeObject(rq.body, false, &f); aerr != nil {
		return 0, nil, aerr
	}
	p := &members{}
	ref := p.str("payout_ref", f.PayoutRef)
	if ref == "" && p.errs == nil {
		p.fail("payout_ref", "The payout ref field is required.")
	}
	if p.errs != nil {
		return 0, nil, fields(p.errs)
	}
	if !validUUID(rq.args[1]) {
		return 0, nil, business(http.StatusNotFound, claimNotFound.msg, claimNotFound.code)
	}
	foreignID, claimID := rq.args[0], uuid.MustParse(rq.args[1])
	rc, err := h.e.MarkRefundClaimPaid(rq.r.Context(), foreignID, claimID, ref)
	if err != nil {
		return 0, nil, h.engineError(rq.r.Context(), "mark refund claim paid", err, claimNotFound)
	}
	return http.StatusOK, data[RefundClaim]{RefundClaim{
		ClaimID: rc.ID.String(), ForeignID: foreignID, Amount: money(rc.Amount), Currency: rc.Currency,
		Status: rc.Status.String(), PayoutRef: rc.PayoutRef, PaidAt: rc.PaidAt.Unix(),
	}}, nil
}

// awaitingPayout serves GET /refund-claims/awaiting-payout?cursor=&limit=.
func (h *Handler) awaitingPayout(rq *request) (int, any, *apiError) {
	q := rq.r.URL.Query()
	errs := map[string]string{}
	opts := invoice.PayoutListOptions{Limit: limitParam(q, errs), Cursor: q.Get("cursor")}
	if opts.Cursor != "" && !validPayoutCursor(opts.Cursor) {
		errs["cursor"] = "The cursor is invalid."
	}
	if len(errs) > 0 {
		return 0, nil, fields(errs)
	}
	pg, err := h.e.RefundClaimsAwaitingPayout(rq.r.Context(), opts)
	if err != nil {
		return 0, nil, h.engineError(rq.r.Context(), "refund claims awaiting payout", err, claimNotFound)
	}
	out := page[Payout]{Data: make([]Payout, 0, len(pg.Payouts)), NextCursor: optString(pg.NextCursor)}
	for _, p := range pg.Payouts {
		out.Data = append(out.Data, renderPayout(p.ClaimID, p.ForeignID, p.Amount, p.Currency, p.Destination, p.Reason, p.RedeemedAt))
	}
	return http.StatusOK, out, nil
}

// validPayoutCursor accepts what the engine's listing hands out:
// "<invoice uuid>.<claim uuid>".
func validPayoutCursor(s string) bool {
	a, b, ok := strings.Cut(s, ".")
	return ok && validUUID(a) && validUUID(b)
}
