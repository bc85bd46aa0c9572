package checkout

import (
	"net/http"
	"net/url"

	"github.com/cryptoinvoice/invoice"
)

// claimView is the content of claim.html.
type claimView struct {
	page *pageData

	Step        string // "form", "review" or "claimed"
	Amount      string // "0.001 BTC"
	Currency    string
	Network     string // the currency's network, e.g. "Bitcoin"
	Reason      string // translated
	Title       string // the invoice's title
	Address     string // typed (form, review) or redeemed to (claimed)
	Error       string // the address field's error, translated
	Action      string // the form's relative URL
	JustClaimed bool   // claimed by this browser a moment ago
	Refused     bool   // a submit after the claim was redeemed
	Paid        bool   // the refund was paid out
}

func (h *Handler) claimView(r *http.Request, info *invoice.RefundClaimInfo, token string) *claimView {
	p := h.newPage(r)
	v := &claimView{
		page:     p,
		Step:     "form",
		Amount:   info.Amount.String() + " " + info.Currency,
		Currency: info.Currency,
		Network:  h.network(info.Currency),
		Reason:   reasonText(p.M, info.Reason),
		Title:    info.Title,
		Action:   p.Root + ClaimPath + "/" + url.PathEscape(token),
		Paid:     info.Status == invoice.RefundPaid,
	}
	if info.Status != invoice.RefundOpen {
		v.Address = info.Destination
	}
	return v
}

// renderClaim renders the claim page.
func (h *Handler) renderClaim(w http.ResponseWriter, r *http.Request, status int, v *claimView) {
	p := v.page
	p.Title = p.T("claim.title")
	if h.cfg.MerchantName != "" {
		p.Title += " · " + h.cfg.MerchantName
	}
	if v.Step != "claimed" {
		v.Action += p.LangQuery
	}
	p.Content = v
	h.render(w, r, status, "claim.html", p)
}
