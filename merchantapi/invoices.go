package merchantapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cryptoinvoice/invoice"
)

// create serves POST /invoices/create.
func (h *Handler) create(rq *request) (int, any, *apiError) {
	req, aerr := createRequest(rq.body)
	if aerr != nil {
		return 0, nil, aerr
	}
	inv, err := h.e.Create(rq.r.Context(), req)
	if err != nil {
		return 0, nil, h.engineError(rq.r.Context(), "create", err, invoiceNotFound)
	}
	return http.StatusOK, data[Invoice]{render(h.e, inv, h.now())}, nil
}

// cancel serves POST /invoices/{foreign_id}/cancel (and .../cancel/). The
// body is ignored beyond being valid JSON when present: CoinsPaid asks
// for {}.
func (h *Handler) cancel(rq *request) (int, any, *apiError) {
	if aerr := decodeObject(rq.body, true, &struct{}{}); aerr != nil {
		return 0, nil, aerr
	}
	inv, err := h.e.Cancel(rq.r.Context(), rq.args[0])
	if err != nil {
		return 0, nil, h.engineError(rq.r.Context(), "cancel", err, invoiceNotFound)
	}
	return http.StatusOK, data[Invoice]{render(h.e, inv, h.now())}, nil
}

// get serves GET /invoices/{foreign_id}.
func (h *Handler) get(rq *request) (int, any, *apiError) {
	inv, err := h.e.Get(rq.r.Context(), rq.args[0])
	if err != nil {
		return 0, nil, h.engineError(rq.r.Context(), "get", err, invoiceNotFound)
	}
	return http.StatusOK, data[Invoice]{render(h.e, inv, h.now())}, nil
}

// maxLimit is the largest page a listing returns.
const maxLimit = 1000

// list serves GET /invoices?status=&created_from=&created_before=&cursor=&limit=.
func (h *Handler) list(rq *request) (int, any, *apiError) {
	q := rq.r.URL.Query()
	errs := map[string]string{}
	var opts invoice.ListOptions
	if s := q.Get("status"); s != "" {
		st, err := invoice.ParseStatus(s)
		if err != nil {
			errs["status"] = "The selected status is invalid."
		}
		opts.Status = st
	}
	opts.CreatedFrom = timeParam(q, "created_from", errs)
	opts.CreatedBefore = timeParam(q, "created_before", errs)
	opts.Limit = limitParam(q, errs)
	opts.Cursor = q.Get("cursor")
	if opts.Cursor != "" && !validUUID(opts.Cursor) {
		errs["cursor"] = "The cursor is invalid."
	}
	if len(errs) > 0 {
		return 0, nil, fields(errs)
	}
	pg, err := h.e.List(rq.r.Context(), opts)
	if err != nil {
		return 0, nil, h.engineError(rq.r.Context(), "list", err, invoiceNotFound)
	}
	now := h.now()
	out := page[Invoice]{Data: make([]Invoice, 0, len(pg.Invoices)), NextCursor: optString(pg.NextCursor)}
	for _, inv := range pg.Invoices {
		out.Data = append(out.Data, render(h.e, inv, now))
	}
	return http.StatusOK, out, nil
}

// timeParam reads a time query parameter: unix seconds or RFC 3339.
func timeParam(q url.Values, name string, errs map[string]string) time.Time {
	s := strings.TrimSpace(q.Get(name))
	if s == "" {
		return time.Time{}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 && n < 1<<40 {
		return time.Unix(n, 0).UTC()
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 1970 || t.Year() > 9999 {
		errs[name] = "The " + human(name) + " is not a valid date."
		return time.Time{}
	}
	return t.UTC()
}

// limitParam reads limit: 1 to maxLimit, default 100.
func limitParam(q url.Values, errs map[string]string) int {
	s := q.Get("limit")
	if s == "" {
		return 100
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		errs["limit"] = "The limit must be between 1 and " + strconv.Itoa(maxLimit) + "."
		return 0
	}
	return n
}
