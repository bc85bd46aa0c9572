package checkout

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/cryptoinvoice/invoice"
)

// Handler serves the checkout pages of one engine's invoices. Mount it
// where Config.CheckoutBaseURL of the engine points, with the base path
// stripped (http.StripPrefix), so that the path it sees is "/" + token:
//
//	GET  /{token}          the invoice page
//	POST /{token}          the customer's confirmation (currency, e-mail)
//	GET  /{token}/status   the live status (JSON), polled by the page
//	GET  /assets/{name}    the embedded style sheet, script and logo
//
// Every link and form in the pages is relative, so any mount point works.
// Handler is safe for concurrent use.
type Handler struct {
	cfg     Config
	engine  *invoice.Engine
	pages   map[string]*template.Template
	assets  map[string]asset
	urls    assetURLs
	confirm *limiter // confirmations per client
	unknown *limiter // look-ups of unknown tokens per client
	qr      *qrCache
	claims  *limiter // refund-claim requests per client (claim.go)
	next    http.Handler
}

// New validates cfg, applies its defaults and returns a Handler.
func New(cfg Config) (*Handler, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	h := &Handler{
		cfg:     cfg,
		engine:  cfg.Engine,
		confirm: newLimiter(cfg.Clock, cfg.RateLimit),
		unknown: newLimiter(cfg.Clock, cfg.RateLimit),
		qr:      newQRCache(1024),
	}
	var err error
	if h.pages, err = parsePages("invoice.html", "error.html"); err != nil {
		return nil, err
	}
	if err := h.initClaims(); err != nil {
		return nil, err
	}
	h.assets, h.urls = loadAssets(cfg.Logo, cfg.LogoType)
	h.next = secure(http.HandlerFunc(h.route))
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.next.ServeHTTP(w, r) }

func (h *Handler) route(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, "/")
	if !ok || len(path) > 512 {
		h.notFound(w, r)
		return
	}
	seg := strings.Split(path, "/")
	switch {
	case len(seg) == 2 && seg[0] == "assets":
		h.serveAsset(w, r, seg[1])
	case len(seg) >= 2 && seg[0] == ClaimPath:
		h.serveClaim(w, r, seg[1:]) // the refund-claim pages, claim*.go
	case len(seg) == 1 && seg[0] != "":
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			h.servePage(w, r, seg[0])
		case http.MethodPost:
			h.serveConfirm(w, r, seg[0])
		default:
			h.methodNotAllowed(w, r, "GET, HEAD, POST")
		}
	case len(seg) == 2 && seg[0] != "" && seg[1] == "status":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.methodNotAllowed(w, r, "GET, HEAD")
			return
		}
		h.serveStatus(w, r, seg[0])
	default:
		h.notFound(w, r)
	}
}

// lookup finds the invoice of a checkout token. Unknown tokens take a
// token from the client's rate-limit bucket; ok is false when the answer
// (404, 429 or 503) was written.
func (h *Handler) lookup(w http.ResponseWriter, r *http.Request, token string, asJSON bool) (*invoice.Invoice, bool) {
	inv, err := h.engine.GetByCheckoutToken(r.Context(), token)
	switch {
	case err == nil:
		return inv, true
	case errors.Is(err, invoice.ErrNotFound):
		if !h.unknown.allow(h.cfg.ClientIP(r)) {
			h.tooMany(w, r, asJSON)
			return nil, false
		}
		if asJSON {
			writeJSONError(w, http.StatusNotFound, "not_found")
		} else {
			h.notFound(w, r)
		}
		return nil, false
	}
	h.unavailable(w, r, err, asJSON)
	return nil, false
}

// logError logs a server-side failure without the request path (it
// carries the customer's token).
func (h *Handler) logError(ctx context.Context, msg string, err error, inv *invoice.Invoice) {
	attrs := []any{"error", err}
	if inv != nil {
		attrs = append(attrs, "foreign_id", inv.ForeignID)
	}
	h.cfg.Logger.ErrorContext(ctx, "checkout: "+msg, attrs...)
}
