package checkout

import (
	"errors"
	"net/http"
	"strings"

	"github.com/cryptoinvoice/invoice"
)

// maxFormBytes bounds a confirmation's body.
const maxFormBytes = 8 << 10

// serveConfirm takes the customer's choice of currency and e-mail and
// calls Engine.ConfirmPayment; then it redirects to the page (303), or
// shows the page again with the refused fields marked (422).
func (h *Handler) serveConfirm(w http.ResponseWriter, r *http.Request, token string) {
	if !h.confirm.allow(h.cfg.ClientIP(r)) {
		h.tooMany(w, r, false)
		return
	}
	inv, ok := h.lookup(w, r, token, false)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.errorPage(w, r, http.StatusBadRequest, "error.bad_form.heading", "error.bad_form.text")
		return
	}
	currency := strings.TrimSpace(r.PostForm.Get("currency"))
	email := strings.TrimSpace(r.PostForm.Get("email"))
	if len(currency) > 16 || len(email) > 254 {
		h.errorPage(w, r, http.StatusBadRequest, "error.bad_form.heading", "error.bad_form.text")
		return
	}
	back := h.newPage(r)
	location := back.Root + inv.CheckoutToken + back.LangQuery
	if inv.Status != invoice.StatusCreated {
		// Already confirmed (another tab, a repeated post): show the page.
		seeOther(w, location)
		return
	}
	_, err := h.engine.ConfirmPayment(r.Context(), inv.ForeignID, invoice.Confirmation{Currency: currency, Email: email})
	var verr *invoice.ValidationError
	switch {
	case err == nil, errors.Is(err, invoice.ErrInvalidState):
		seeOther(w, location)
	case errors.As(err, &verr):
		h.renderInvoice(w, r, http.StatusUnprocessableEntity, inv, formErrors(back, verr), email)
	default:
		// The rate or address source, or the store, failed: not the
		// customer's fault.
		h.logError(r.Context(), "confirm", err, inv)
		w.Header().Set("Retry-After", "5")
		h.errorPage(w, r, http.StatusServiceUnavailable, "error.unavailable.heading", "error.confirm_failed.text")
	}
}

// formErrors translates the engine's field errors for the form.
func formErrors(p *pageData, v *invoice.ValidationError) map[string]string {
	errs := map[string]string{}
	if msg := v.Field("currency"); msg != "" {
		key := "form.currency_invalid"
		if strings.Contains(msg, "required") {
			key = "form.currency_required"
		}
		errs["currency"] = p.T(key)
	}
	if msg := v.Field("email_user"); msg != "" {
		key := "form.email_invalid"
		if strings.Contains(msg, "required") {
			key = "form.email_required"
		}
		errs["email"] = p.T(key)
	}
	if len(errs) == 0 {
		errs["form"] = p.T("form.invalid")
	}
	return errs
}

// seeOther redirects to a location relative to the request's own URL as
// the browser sees it (http.Redirect would resolve it against the path
// after the host's StripPrefix).
func seeOther(w http.ResponseWriter, location string) {
	w.Header().Set("Location", location)
	w.WriteHeader(http.StatusSeeOther)
}
