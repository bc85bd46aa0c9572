package checkout

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cryptoinvoice/invoice/checkout/i18n"
)

// Pages are templates/layout.html (the shared layout: head, merchant
// header, language links; it calls the page's "content") plus one file per
// page that defines "content". Every page is parsed with the layout and
// the shared partials (templates/partials/*.html).
func parsePages(names ...string) (map[string]*template.Template, error) {
	base, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(siteFS, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("checkout: templates: %w", err)
	}
	pages := make(map[string]*template.Template, len(names))
	for _, name := range names {
		t, err := template.Must(base.Clone()).ParseFS(siteFS, "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("checkout: template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// templateFuncs are the helpers the templates share.
var templateFuncs = template.FuncMap{
	// copyArgs makes the argument of the "copy" partial.
	"copyArgs": func(p *pageData, value, label string) copyArgs { return copyArgs{Page: p, Value: value, Label: label} },
}

// copyArgs is the argument of the "copy" partial.
type copyArgs struct {
	Page         *pageData
	Value, Label string
}

// pageData is what the layout needs; Content is the page's own data.
type pageData struct {
	M        *i18n.Messages
	Title    string
	Merchant string
	// Root is the relative path from the request to the handler's root
	// ("" for "/{token}", "../" for "/{token}/status").
	Root      string
	Assets    assetURLs
	LangQuery string // "?lang=de" when the language was chosen by a link
	Langs     []langLink
	Refresh   int // seconds of the no-script meta refresh; 0 for none
	Content   any
}

type langLink struct {
	Lang, Name, Href string
	Current          bool
}

// T translates key in the page's language (see i18n.Messages.T).
func (p *pageData) T(key string, args ...any) string { return p.M.T(key, args...) }

// Lang is the page's language tag.
func (p *pageData) Lang() string { return p.M.Lang() }

// newPage builds the layout data for a request: its language (the "lang"
// query parameter, then Accept-Language) and relative paths.
func (h *Handler) newPage(r *http.Request) *pageData {
	override := r.URL.Query().Get("lang")
	m := h.cfg.Catalogs.Match(override, r.Header.Get("Accept-Language"))
	p := &pageData{M: m, Merchant: h.cfg.MerchantName}
	p.Root = strings.Repeat("../", strings.Count(strings.TrimPrefix(r.URL.Path, "/"), "/"))
	p.Assets = assetURLs{CSS: p.Root + h.urls.CSS, JS: p.Root + h.urls.JS}
	if h.urls.Logo != "" {
		p.Assets.Logo = p.Root + h.urls.Logo
	}
	if override != "" && override == m.Lang() {
		p.LangQuery = "?lang=" + url.QueryEscape(m.Lang())
	}
	for _, l := range h.cfg.Catalogs.Languages() {
		cat := h.cfg.Catalogs.Lookup(l)
		p.Langs = append(p.Langs, langLink{Lang: l, Name: cat.T("lang.name"), Href: "?lang=" + url.QueryEscape(l), Current: l == m.Lang()})
	}
	return p
}

// render executes a page into a buffer first, so that a template error
// never sends half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page string, p *pageData) {
	var buf bytes.Buffer
	if err := h.pages[page].ExecuteTemplate(&buf, "layout", p); err != nil {
		h.logError(r.Context(), "render "+page, err, nil)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Language", p.Lang())
	hd.Add("Vary", "Accept-Language")
	hd.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// errorView is the content of error.html.
type errorView struct {
	Heading, Text string
}

func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, status int, heading, text string) {
	p := h.newPage(r)
	p.Title = p.T(heading)
	p.Content = errorView{Heading: p.T(heading), Text: p.T(text)}
	h.render(w, r, status, "error.html", p)
}

// notFound is the one answer for every unknown or malformed token, and
// for any other unknown path.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.errorPage(w, r, http.StatusNotFound, "error.not_found.heading", "error.not_found.text")
}

func (h *Handler) methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	h.errorPage(w, r, http.StatusMethodNotAllowed, "error.method.heading", "error.method.text")
}

func (h *Handler) tooMany(w http.ResponseWriter, r *http.Request, asJSON bool) {
	w.Header().Set("Retry-After", "60")
	if asJSON {
		writeJSONError(w, http.StatusTooManyRequests, "rate_limited")
		return
	}
	h.errorPage(w, r, http.StatusTooManyRequests, "error.rate.heading", "error.rate.text")
}

// unavailable answers a failure of the store or the engine (not the
// client's fault) with 503 and logs it.
func (h *Handler) unavailable(w http.ResponseWriter, r *http.Request, err error, asJSON bool) {
	h.logError(r.Context(), "unavailable", err, nil)
	w.Header().Set("Retry-After", "5")
	if asJSON {
		writeJSONError(w, http.StatusServiceUnavailable, "unavailable")
		return
	}
	h.errorPage(w, r, http.StatusServiceUnavailable, "error.unavailable.heading", "error.unavailable.text")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal"}`)
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/json; charset=utf-8")
	hd.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func writeJSONError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]string{"error": code})
}
