package merchantapi

import (
	"net/http"

	"github.com/cryptoinvoice/invoice"
	"github.com/google/uuid"
)

// DeadCallback is one entry of the dead-callback listing: an outbox record
// whose every scheduled attempt failed. Customer notices are listed too
// (channel "customer") but never with their content.
type DeadCallback struct {
	ID        string `json:"id"`         // the delivery id (receivers dedupe on it)
	InvoiceID string `json:"invoice_id"` // the invoice's internal UUID
	ForeignID string `json:"foreign_id"`
	Channel   string `json:"channel"` // merchant, customer or payout
	// Status is the invoice status the callback reports; "" for other channels.
	Status        string  `json:"status"`
	CreatedAt     int64   `json:"created_at"` // unix seconds
	Attempts      int     `json:"attempts"`
	LastAttemptAt *int64  `json:"last_attempt_at"`  // unix seconds; null without attempts
	LastStatus    *int    `json:"last_status_code"` // the receiver's HTTP status, when it answered
	LastError     *string `json:"last_error"`
}

func renderDead(d *invoice.Delivery) DeadCallback {
	out := DeadCallback{
		ID:        d.ID.String(),
		InvoiceID: d.InvoiceID.String(),
		Channel:   d.Channel.String(),
		CreatedAt: d.CreatedAt.Unix(),
		Attempts:  len(d.Attempts),
	}
	switch {
	case d.Callback != nil:
		out.ForeignID, out.Status = d.Callback.ForeignID, d.Callback.Status.String()
	case d.Notice != nil:
		out.ForeignID = d.Notice.ForeignID
	}
	if n := len(d.Attempts); n > 0 {
		a := d.Attempts[n-1]
		out.LastAttemptAt = ptr(a.At.Unix())
		if a.StatusCode != 0 {
			out.LastStatus = ptr(a.StatusCode)
		}
		out.LastError = optString(a.Error)
	}
	return out
}

// deadCallbacks serves GET /callbacks/dead?cursor=&limit=.
func (h *Handler) deadCallbacks(rq *request) (int, any, *apiError) {
	q := rq.r.URL.Query()
	errs := map[string]string{}
	limit := limitParam(q, errs)
	after := uuid.Nil
	if c := q.Get("cursor"); c != "" {
		id, err := uuid.Parse(c)
		if err != nil || !validUUID(c) {
			errs["cursor"] = "The cursor is invalid."
		}
		after = id
	}
	if len(errs) > 0 {
		return 0, nil, fields(errs)
	}
	ds, err := h.e.DeadDeliveries(rq.r.Context(), after, limit+1)
	if err != nil {
		return 0, nil, h.engineError(rq.r.Context(), "dead callbacks", err, callbackNotFound)
	}
	out := page[DeadCallback]{Data: make([]DeadCallback, 0, min(len(ds), limit))}
	if len(ds) > limit {
		ds = ds[:limit]
		out.NextCursor = ptr(ds[limit-1].ID.String())
	}
	for _, d := range ds {
		out.Data = append(out.Data, renderDead(d))
	}
	return http.StatusOK, out, nil
}

// Redelivery is the answer of a redelivery.
type Redelivery struct {
	ID    string `json:"id"`
	State string `json:"state"` // "pending": due now
}

// redeliver serves POST /callbacks/{id}/redeliver.
func (h *Handler) redeliver(rq *request) (int, any, *apiError) {
	if aerr := decodeObject(rq.body, true, &struct{}{}); aerr != nil {
		return 0, nil, aerr
	}
	if !validUUID(rq.args[0]) {
		return 0, nil, business(http.StatusNotFound, callbackNotFound.msg, callbackNotFound.code)
	}
	id := uuid.MustParse(rq.args[0])
	if err := h.e.Redeliver(rq.r.Context(), id); err != nil {
		return 0, nil, h.engineError(rq.r.Context(), "redeliver", err, callbackNotFound)
	}
	return http.StatusOK, data[Redelivery]{Redelivery{ID: id.String(), State: invoice.DeliveryPending.String()}}, nil
}

// validUUID accepts the canonical text form only (uuid.Parse also takes
// braces, urn: and 32 bare hex digits).
func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}
