package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/cryptoinvoice/invoice"
)

// HandlerFunc is what Handler calls with each verified callback. Returning
// nil acknowledges it (the sender will not retry); any error makes the
// answer 500 and the sender retries later with the same Meta.ID.
type HandlerFunc func(ctx context.Context, cb *invoice.Callback, meta Meta) error

// Handler returns an http.Handler for a merchant's callback endpoint. For
// each request it:
//
//   - refuses methods other than POST (405);
//   - reads at most v.MaxBodyBytes of body (413 beyond);
//   - verifies the signatures v requires: 401 when a header or signature
//     is missing (ErrMissingHeaders, ErrMissingSignature), 403 when one is
//     wrong (ErrBadSignature, ErrBadKey, ErrStaleTimestamp);
//   - decodes the body into an invoice.Callback (amounts become decimals,
//     status a typed invoice.Status): 400 when it is not a callback (bad
//     JSON, unknown status, no foreign_id);
//   - calls fn with the request's context: 200 when it returns nil, 500
//     otherwise (the error is not shown to the sender).
//
// Answers carry a small JSON body, {"ok":true} or {"error":"..."}.
// Callbacks may arrive more than once (at-least-once delivery): make fn
// idempotent, keyed on meta.ID. Handler panics if v is nil or v.Check
// fails, as a configuration error should surface at start-up.
func Handler(v *Verifier, fn HandlerFunc) http.Handler {
	if v == nil {
		panic("webhook: Handler with a nil Verifier")
	}
	if fn == nil {
		panic("webhook: Handler with a nil func")
	}
	if err := v.Check(); err != nil {
		panic(fmt.Sprintf("webhook: Handler: %v", err))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			answer(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, v.maxBody()))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				answer(w, http.StatusRequestEntityTooLarge, "body too large")
				return
			}
			answer(w, http.StatusBadRequest, "cannot read body")
			return
		}
		meta, err := v.Verify(r.Header, body)
		if err != nil {
			answer(w, verifyStatus(err), err.Error())
			return
		}
		cb, err := DecodeCallback(body)
		if err != nil {
			answer(w, http.StatusBadRequest, err.Error())
			return
		}
		if err := fn(r.Context(), cb, meta); err != nil {
			answer(w, http.StatusInternalServerError, "callback not processed")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
}

// verifyStatus maps a Verify error to an HTTP status.
func verifyStatus(err error) int {
	switch {
	case errors.Is(err, ErrMissingHeaders), errors.Is(err, ErrMissingSignature):
		return http.StatusUnauthorized
	case errors.Is(err, ErrInvalidSecret):
		return http.StatusInternalServerError
	default:
		return http.StatusForbidden
	}
}

func answer(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// ErrBadCallback means a verified body is not a callback: bad JSON,
// an unknown status, or no foreign_id.
var ErrBadCallback = errors.New("webhook: body is not a callback")

// DecodeCallback decodes a callback body (already verified) into typed
// values. Unknown fields are ignored, so callbacks from a newer sender
// still decode. Errors match ErrBadCallback.
func DecodeCallback(body []byte) (*invoice.Callback, error) {
	var cb invoice.Callback
	if err := json.Unmarshal(body, &cb); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCallback, err)
	}
	switch {
	case cb.ForeignID == "":
		return nil, fmt.Errorf("%w: no foreign_id", ErrBadCallback)
	case !cb.Status.Valid():
		return nil, fmt.Errorf("%w: no status", ErrBadCallback)
	}
	return &cb, nil
}
