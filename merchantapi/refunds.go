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
// with {"payout_ref": "..."}.
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
	rc, err := h.e.MarkRefundClaimPaid(rq.r.Context(), foreignID, claimID, strings.TrimSpace(ref))
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
	limit := limitParam(q, errs)
	cursor := q.Get("cursor")
	if cursor != "" && !validPayoutCursor(cursor) {
		errs["cursor"] = "The cursor is invalid."
	}
	if len(errs) > 0 {
		return 0, nil, fields(errs)
	}
	payouts, next, err := h.payouts(rq, cursor, limit)
	if err != nil {
		return 0, nil, h.engineError(rq.r.Context(), "refund claims awaiting payout", err, claimNotFound)
	}
	return http.StatusOK, page[Payout]{Data: payouts, NextCursor: optString(next)}, nil
}

// validPayoutCursor accepts "<invoice uuid>.<claim uuid>".
func validPayoutCursor(s string) bool {
	a, b, ok := strings.Cut(s, ".")
	return ok && validUUID(a) && validUUID(b)
}

// payouts lists redeemed claims by scanning invoices in ID order (until
// the engine has a listing of its own: see the refund-claims work). The
// cursor is "<invoice id>.<claim id>" of the last entry.
func (h *Handler) payouts(rq *request, cursor string, limit int) ([]Payout, string, error) {
	type entry struct {
		p   Payout
		inv uuid.UUID
	}
	var found []entry
	add := func(inv *invoice.Invoice, skipThrough string) {
		skipping := skipThrough != ""
		for i := range inv.RefundClaims {
			rc := &inv.RefundClaims[i]
			if skipping {
				skipping = rc.ID.String() != skipThrough
				continue
			}
			if rc.Status == invoice.RefundRedeemed && len(found) <= limit {
				found = append(found, entry{renderPayout(rc.ID, inv.ForeignID, rc.Amount, rc.Currency,
					rc.Destination, rc.Reason, rc.RedeemedAt), inv.ID})
			}
		}
	}
	opts := invoice.ListOptions{Limit: 1000}
	if cursor != "" {
		afterInv, afterClaim, _ := strings.Cut(cursor, ".")
		if inv, err := h.e.Store().GetInvoice(rq.r.Context(), uuid.MustParse(afterInv)); err == nil {
			add(inv, afterClaim)
		}
		opts.Cursor = afterInv
	}
	for len(found) <= limit {
		pg, err := h.e.List(rq.r.Context(), opts)
		if err != nil {
			return nil, "", err
		}
		for _, inv := range pg.Invoices {
			add(inv, "")
		}
		if pg.NextCursor == "" {
			break
		}
		opts.Cursor = pg.NextCursor
	}
	out := make([]Payout, 0, min(len(found), limit))
	for i := 0; i < len(found) && i < limit; i++ {
		out = append(out, found[i].p)
	}
	next := ""
	if len(found) > limit {
		last := found[limit-1]
		next = last.inv.String() + "." + last.p.ClaimID
	}
	return out, next, nil
}
