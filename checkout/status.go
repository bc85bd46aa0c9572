package checkout

import (
	"bytes"
	"net/http"
)

// statusResponse is the live status the page polls. html is the page's
// live section rendered by the server (the same template as the page),
// status_text the sentence for the page's aria-live region.
type statusResponse struct {
	Status      string `json:"status"`
	Phase       string `json:"phase"`
	Final       bool   `json:"final"`
	SecondsLeft int64  `json:"seconds_left"`
	ExpiresAt   int64  `json:"expires_at,omitempty"`
	Version     int64  `json:"version"`
	Currency    string `json:"currency,omitempty"`
	Amount      string `json:"amount,omitempty"`
	Received    string `json:"received,omitempty"`
	Remaining   string `json:"remaining,omitempty"`
	Error       string `json:"error,omitempty"`
	StatusText  string `json:"status_text"`
	HTML        string `json:"html"`
}

// serveStatus answers the page's poll. Its ETag names the invoice version,
// the page's phase and the language, so a poll with If-None-Match gets
// 304 Not Modified, without rendering, until something the customer sees
// changes (the countdown runs in the page from seconds_left).
func (h *Handler) serveStatus(w http.ResponseWriter, r *http.Request, token string) {
	inv, ok := h.lookup(w, r, token, true)
	if !ok {
		return
	}
	now := h.cfg.Clock.Now()
	m := h.cfg.Catalogs.Match(r.URL.Query().Get("lang"), r.Header.Get("Accept-Language"))
	etag := etagOf(inv, phaseOf(inv, now), m.Lang())
	hd := w.Header()
	hd.Set("ETag", etag)
	hd.Add("Vary", "Accept-Language")
	if match := r.Header.Get("If-None-Match"); match != "" && match == etag {
		// Nothing the customer sees changed: no rendering.
		w.WriteHeader(http.StatusNotModified)
		return
	}
	p := h.newPage(r)
	v := h.buildView(r.Context(), inv, p.M, now)
	p.Content = v
	resp := statusResponse{
		Status: v.Status, Phase: v.Phase, Final: v.Final, SecondsLeft: v.SecondsLeft, Version: v.Version,
		Currency: inv.SenderCurrency, Error: inv.Error, StatusText: v.StatusText,
	}
	if !inv.ExpiresAt.IsZero() {
		resp.ExpiresAt = inv.ExpiresAt.Unix()
	}
	if inv.SenderCurrency != "" {
		resp.Amount = inv.SenderAmount.String()
		resp.Received = inv.ReceivedAmount().String()
		resp.Remaining = inv.RemainingAmount().String()
	}
	// The live section's links are relative to the page, not to
	// /status: render it with the page's root.
	p.Root = ""
	v.StatusURL = inv.CheckoutToken + "/status" + p.LangQuery
	v.FormAction = inv.CheckoutToken + p.LangQuery
	var buf bytes.Buffer
	if err := h.pages["invoice.html"].ExecuteTemplate(&buf, "live", p); err != nil {
		h.logError(r.Context(), "render status", err, inv)
		writeJSONError(w, http.StatusInternalServerError, "internal")
		return
	}
	resp.HTML = buf.String()
	writeJSON(w, http.StatusOK, resp)
}
