package checkout

import (
	"net/http"

	"github.com/cryptoinvoice/invoice"
)

// servePage renders the invoice page.
func (h *Handler) servePage(w http.ResponseWriter, r *http.Request, token string) {
	inv, ok := h.lookup(w, r, token, false)
	if !ok {
		return
	}
	h.renderInvoice(w, r, http.StatusOK, inv, nil, "")
}

// renderInvoice renders inv's page, with form errors and the e-mail typed
// when a confirmation was refused.
func (h *Handler) renderInvoice(w http.ResponseWriter, r *http.Request, status int, inv *invoice.Invoice, errs map[string]string, email string) {
	p := h.newPage(r)
	v := h.buildView(r.Context(), inv, p.M, h.cfg.Clock.Now())
	v.Errors, v.Email = errs, email
	v.StatusURL = p.Root + inv.CheckoutToken + "/status" + p.LangQuery
	v.FormAction = p.Root + inv.CheckoutToken + p.LangQuery
	p.Title = inv.Title
	if h.cfg.MerchantName != "" {
		p.Title += " · " + h.cfg.MerchantName
	}
	if v.Phase == phasePay || v.Phase == phaseProcessing {
		// Without JavaScript the page reloads itself while the payment
		// is awaited (no form can be interrupted then).
		p.Refresh = int(h.cfg.NoScriptRefresh.Seconds())
	}
	p.Content = v
	w.Header().Set("ETag", v.ETag)
	h.render(w, r, status, "invoice.html", p)
}
