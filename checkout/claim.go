package checkout

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/cryptoinvoice/invoice"
)

// ClaimPath is the first path segment of the refund-claim pages: the
// handler serves the claim of a token at "/refund/{token}", so the link a
// customer is e-mailed is CheckoutBaseURL + "/refund/" + token (for
// package mailer: ClaimBaseURL = CheckoutBaseURL + "/refund").
//
// The claim page shows the refund (amount, currency, reason), asks for the
// destination address, checks it for the currency
// (Engine.CheckRefundDestination), asks the customer to confirm it, and
// redeems the claim (Engine.RedeemRefundClaim), once:
//
//	GET  /refund/{token}   the claim: the address form, or "claimed"
//	POST /refund/{token}   step=review: check the address, show it to confirm
//	                       step=edit:   back to the form with the address
//	                       step=redeem: redeem, then 303 to the GET
//
// Every request takes a token from the client's claim rate-limit bucket
// (a bucket of its own, sized by Config.RateLimit; 429 with Retry-After
// when empty). Every token that belongs to no claim gets the
// same answer, 404 with the same page, whatever the method.
const ClaimPath = "refund"

// maxAddressLen bounds the address field before the engine's own check
// (255 bytes): longer input is refused as invalid without a look-up.
const maxAddressLen = 512

// Steps of the claim form.
const (
	stepReview = "review"
	stepEdit   = "edit"
	stepRedeem = "redeem"
)

// initClaims sets up the claim pages: their template and rate limiter.
func (h *Handler) initClaims() error {
	pages, err := parsePages("claim.html")
	if err != nil {
		return err
	}
	h.pages["claim.html"] = pages["claim.html"]
	h.claims = newLimiter(h.cfg.Clock, h.cfg.RateLimit)
	return nil
}

// serveClaim answers every request under /refund/; rest is the path after
// it, split at "/".
func (h *Handler) serveClaim(w http.ResponseWriter, r *http.Request, rest []string) {
	if !h.claims.allow(h.cfg.ClientIP(r)) {
		h.tooMany(w, r, false)
		return
	}
	if len(rest) != 1 || rest[0] == "" || len(rest[0]) > 256 {
		h.claimNotFound(w, r)
		return
	}
	token := rest[0]
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodPost:
	default:
		h.methodNotAllowed(w, r, "GET, HEAD, POST")
		return
	}
	info, err := h.engine.LookupRefundClaim(r.Context(), token)
	switch {
	case errors.Is(err, invoice.ErrRefundClaim):
		h.claimNotFound(w, r)
		return
	case err != nil:
		h.unavailable(w, r, err, false)
		return
	}
	if r.Method != http.MethodPost {
		v := h.claimView(r, info, token)
		if info.Status != invoice.RefundOpen {
			v.Step = "claimed"
			v.JustClaimed = r.URL.Query().Get("done") == "1"
		}
		h.renderClaim(w, r, http.StatusOK, v)
		return
	}
	h.claimPost(w, r, info, token)
}

// claimPost handles the form's steps.
func (h *Handler) claimPost(w http.ResponseWriter, r *http.Request, info *invoice.RefundClaimInfo, token string) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.errorPage(w, r, http.StatusBadRequest, "error.bad_form.heading", "error.bad_form.text")
		return
	}
	v := h.claimView(r, info, token)
	if info.Status != invoice.RefundOpen {
		// A second submit, another tab, a reload of the confirmation.
		v.Step, v.Refused = "claimed", true
		h.renderClaim(w, r, http.StatusConflict, v)
		return
	}
	v.Address = strings.TrimSpace(r.PostForm.Get("address"))
	step := r.PostForm.Get("step")
	if step == stepEdit {
		h.renderClaim(w, r, http.StatusOK, v)
		return
	}
	if len(v.Address) > maxAddressLen {
		v.Address = v.Address[:maxAddressLen]
		v.Error = v.page.T("claim.address_invalid", "currency", info.Currency)
		h.renderClaim(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	if err := h.engine.CheckRefundDestination(info.Currency, v.Address); err != nil {
		v.Error = h.addressError(v, err)
		h.renderClaim(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	if step != stepRedeem {
		v.Step = stepReview
		h.renderClaim(w, r, http.StatusOK, v)
		return
	}
	_, err := h.engine.RedeemRefundClaim(r.Context(), token, v.Address)
	var verr *invoice.ValidationError
	switch {
	case err == nil:
		q := url.Values{"done": {"1"}}
		if v.page.LangQuery != "" {
			q.Set("lang", v.page.Lang())
		}
		// A reference relative to this page's own URL: http.Redirect would
		// resolve it against the path after http.StripPrefix, dropping the
		// mount point.
		w.Header().Set("Location", url.PathEscape(token)+"?"+q.Encode())
		w.WriteHeader(http.StatusSeeOther)
	case errors.Is(err, invoice.ErrRefundClaimRedeemed):
		// Redeemed between the look-up and now (two tabs): show it.
		if fresh, lerr := h.engine.LookupRefundClaim(r.Context(), token); lerr == nil {
			v = h.claimView(r, fresh, token)
		}
		v.Step, v.Refused = "claimed", true
		h.renderClaim(w, r, http.StatusConflict, v)
	case errors.As(err, &verr):
		v.Error = h.addressError(v, err)
		h.renderClaim(w, r, http.StatusUnprocessableEntity, v)
	case errors.Is(err, invoice.ErrRefundClaim):
		h.claimNotFound(w, r)
	default:
		h.logError(r.Context(), "redeem refund claim", err, nil)
		w.Header().Set("Retry-After", "5")
		h.errorPage(w, r, http.StatusServiceUnavailable, "error.unavailable.heading", "claim.redeem_failed")
	}
}

// addressError translates the engine's refusal of an address.
func (h *Handler) addressError(v *claimView, err error) string {
	var verr *invoice.ValidationError
	if errors.As(err, &verr) && strings.Contains(verr.Field("address"), "is required") {
		return v.page.T("claim.address_required")
	}
	return v.page.T("claim.address_invalid", "currency", v.Currency)
}

// claimNotFound is the one answer for every token that belongs to no
// claim: malformed, forged, unknown or another invoice's.
func (h *Handler) claimNotFound(w http.ResponseWriter, r *http.Request) {
	h.errorPage(w, r, http.StatusNotFound, "claim.not_found.heading", "claim.not_found.text")
}
