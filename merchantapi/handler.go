package merchantapi

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/webhook"
)

// Handler serves the merchant API. Build it with New; it is safe for
// concurrent use.
type Handler struct {
	cfg      Config
	e        *invoice.Engine
	prefixes []string
	routes   []route
}

// request is one authenticated call being served.
type request struct {
	w    http.ResponseWriter
	r    *http.Request
	args []string // the path's wildcard segments, unescaped, in order
	body []byte
	key  string // the public key that signed it
}

// route is one endpoint: a method and a path of literal segments and
// wildcards ("*", one non-empty segment).
type route struct {
	method string
	path   []string
	public bool // served without authentication (the OpenAPI document)
	serve  func(h *Handler, rq *request) (status int, data any, aerr *apiError)
}

// New validates cfg, applies its defaults and returns the Handler.
func New(cfg Config) (*Handler, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.Keys = append([]Key(nil), cfg.Keys...)
	h := &Handler{cfg: cfg, e: cfg.Engine, prefixes: cfg.prefixes()}
	h.routes = []route{
		{method: http.MethodPost, path: []string{"invoices", "create"}, serve: (*Handler).create},
		{method: http.MethodPost, path: []string{"invoices", "*", "cancel"}, serve: (*Handler).cancel},
		{method: http.MethodGet, path: []string{"invoices", "*"}, serve: (*Handler).get},
		{method: http.MethodGet, path: []string{"invoices"}, serve: (*Handler).list},
		{method: http.MethodGet, path: []string{"callbacks", "dead"}, serve: (*Handler).deadCallbacks},
		{method: http.MethodPost, path: []string{"callbacks", "*", "redeliver"}, serve: (*Handler).redeliver},
		{method: http.MethodGet, path: []string{"refund-claims", "awaiting-payout"}, serve: (*Handler).awaitingPayout},
		{method: http.MethodPost, path: []string{"invoices", "*", "refund-claims", "*", "paid"}, serve: (*Handler).markPaid},
		{method: http.MethodGet, path: []string{"openapi.json"}, public: true, serve: (*Handler).openAPI},
	}
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	status := h.serve(w, r)
	if h.cfg.Logger.Enabled(r.Context(), slog.LevelDebug) {
		h.cfg.Logger.DebugContext(r.Context(), "merchant api request", "method", r.Method,
			"path", r.URL.EscapedPath(), "status", status, "duration", time.Since(start))
	}
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) int {
	segs, ok := h.segments(r.URL)
	if !ok {
		return h.fail(w, errNoRoute)
	}
	rt, args, allow := h.match(r.Method, segs)
	if rt == nil {
		if allow == "" {
			return h.fail(w, errNoRoute)
		}
		w.Header().Set("Allow", allow)
		return h.fail(w, errMethod)
	}
	rq := &request{w: w, r: r, args: args}
	if !rt.public {
		body, aerr := h.readBody(w, r)
		if aerr != nil {
			return h.fail(w, aerr)
		}
		rq.body = body
		if rq.key, aerr = h.authenticate(r, body); aerr != nil {
			return h.fail(w, aerr)
		}
		if len(bytes.TrimSpace(body)) > 0 && !jsonContent(r) {
			return h.fail(w, errBadContent)
		}
	}
	status, data, aerr := rt.serve(h, rq)
	if aerr != nil {
		return h.fail(w, aerr)
	}
	if status == 0 {
		return http.StatusOK // the route wrote its own answer
	}
	return h.write(w, status, data)
}

// segments returns the path below the prefix, split and unescaped. One
// trailing slash is allowed (clients call .../cancel/).
func (h *Handler) segments(u *url.URL) ([]string, bool) {
	p := u.EscapedPath()
	for _, prefix := range h.prefixes {
		rest, found := strings.CutPrefix(p, prefix)
		if !found || rest != "" && rest[0] != '/' {
			continue
		}
		rest = strings.TrimPrefix(rest, "/")
		rest = strings.TrimSuffix(rest, "/")
		if rest == "" {
			return nil, false
		}
		segs := strings.Split(rest, "/")
		for i, s := range segs {
			u, err := url.PathUnescape(s)
			if err != nil || u == "" {
				return nil, false
			}
			segs[i] = u
		}
		return segs, true
	}
	return nil, false
}

// match finds the route for method and path. As in OpenAPI, a path that
// matches with more literal segments hides the ones with wildcards
// (/invoices/create is never /invoices/{foreign_id}). Without a route for
// the method it returns the methods the path allows ("" when none: the
// path is unknown).
func (h *Handler) match(method string, segs []string) (*route, []string, string) {
	most := -1
	for i := range h.routes {
		if _, literals, ok := h.routes[i].matches(segs); ok {
			most = max(most, literals)
		}
	}
	var allow []string
	for i := range h.routes {
		rt := &h.routes[i]
		args, literals, ok := rt.matches(segs)
		if !ok || literals != most {
			continue
		}
		if rt.method == method || method == http.MethodHead && rt.method == http.MethodGet {
			return rt, args, ""
		}
		allow = append(allow, rt.method)
		if rt.method == http.MethodGet {
			allow = append(allow, http.MethodHead)
		}
	}
	return nil, nil, strings.Join(allow, ", ")
}

func (rt *route) matches(segs []string) (args []string, literals int, ok bool) {
	if len(segs) != len(rt.path) {
		return nil, 0, false
	}
	for i, p := range rt.path {
		switch {
		case p == "*":
			args = append(args, segs[i])
		case p == segs[i]:
			literals++
		default:
			return nil, 0, false
		}
	}
	return args, literals, true
}

// readBody reads the whole body, at most MaxBodyBytes.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	if r.ContentLength > h.cfg.MaxBodyBytes {
		return nil, errTooLarge
	}
	if r.Body == nil {
		return nil, nil
	}
	rd := http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes)
	var body []byte
	var err error
	if r.ContentLength > 0 {
		// The usual case: read exactly what was announced, in one buffer.
		body = make([]byte, r.ContentLength)
		if _, err = io.ReadFull(rd, body); err == io.ErrUnexpectedEOF {
			err = errBodyShort
		}
	} else {
		body, err = io.ReadAll(rd)
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, errTooLarge
	case err != nil:
		return nil, errBadContent
	}
	return body, nil
}

var errBodyShort = errors.New("merchantapi: body shorter than Content-Length")

// authenticate checks X-Processing-Key and X-Processing-Signature (hex
// HMAC-SHA512 of the exact body with the key's secret, compared in
// constant time by package webhook). It returns the key.
func (h *Handler) authenticate(r *http.Request, body []byte) (string, *apiError) {
	key := strings.TrimSpace(r.Header.Get(webhook.HeaderProcessingKey))
	if key == "" {
		return "", errNoKey
	}
	secret, found := "", 0
	for _, k := range h.cfg.Keys {
		// Every key is compared, so the time taken says nothing about
		// which key matched or how much of one.
		eq := subtle.ConstantTimeCompare([]byte(k.Key), []byte(key))
		if eq == 1 && found == 0 {
			secret, found = k.Secret, 1
		}
	}
	if found == 0 {
		return "", errBadKey
	}
	err := webhook.VerifyProcessingSignature(secret, body, r.Header.Get(webhook.HeaderProcessingSignature))
	switch {
	case errors.Is(err, webhook.ErrMissingSignature):
		return "", errNoSignature
	case err != nil:
		return "", errBadSignature
	}
	return key, nil
}

// engineError answers an engine error, logging the unexpected ones.
func (h *Handler) engineError(ctx context.Context, op string, err error, nf notFound) *apiError {
	aerr, internal := fromEngine(err, nf)
	if internal {
		h.cfg.Logger.ErrorContext(ctx, "merchant api: engine error", "op", op, "status", aerr.status, "err", err)
	}
	return aerr
}

func (h *Handler) fail(w http.ResponseWriter, aerr *apiError) int {
	return h.write(w, aerr.status, aerr.body)
}

// write sends v as JSON with status.
func (h *Handler) write(w http.ResponseWriter, status int, v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"errors":{"error":"Internal error.","code":"internal_error"}}`)
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
	return status
}

// now is the time answers are rendered at.
func (h *Handler) now() time.Time { return h.cfg.Clock.Now() }

// data wraps an answer as CoinsPaid does: {"data": ...}.
type data[T any] struct {
	Data T `json:"data"`
}

// page is a listing: {"data": [...], "next_cursor": ...}.
type page[T any] struct {
	Data []T `json:"data"`
	// NextCursor continues the listing; null on the last page.
	NextCursor *string `json:"next_cursor"`
}
