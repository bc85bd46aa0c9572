package merchantapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/cryptoinvoice/invoice"
)

// apiError is an error answer: a status and the JSON body.
type apiError struct {
	status int
	body   any
}

// plainError is CoinsPaid's shape for request-level errors (headers,
// content format, paths): {"error": ..., "code": ...}.
type plainError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// businessError is CoinsPaid's shape for an operation the state refuses:
// {"errors": {"error": ..., "code": ...}}.
type businessError struct {
	Errors plainError `json:"errors"`
}

// fieldErrors is CoinsPaid's validation shape: {"errors": {"<field>": "<message>"}}.
type fieldErrors struct {
	Errors map[string]string `json:"errors"`
}

func plain(status int, msg, code string) *apiError {
	return &apiError{status: status, body: plainError{Error: msg, Code: code}}
}

func business(status int, msg, code string) *apiError {
	return &apiError{status: status, body: businessError{Errors: plainError{Error: msg, Code: code}}}
}

func fields(errs map[string]string) *apiError {
	return &apiError{status: http.StatusBadRequest, body: fieldErrors{Errors: errs}}
}

func field(name, msg string) *apiError { return fields(map[string]string{name: msg}) }

// The request-level errors, with CoinsPaid's exact texts.
var (
	errNoKey        = plain(http.StatusForbidden, "No key header", "required_header_key")
	errBadKey       = plain(http.StatusForbidden, "Bad key header", "bad_header_key")
	errNoSignature  = plain(http.StatusForbidden, "No signature header", "required_header_signature")
	errBadSignature = plain(http.StatusForbidden, "Bad signature header", "bad_header_signature")
	errBadContent   = plain(http.StatusBadRequest, "Bad content format", "bad_content_format")
	errTooLarge     = plain(http.StatusRequestEntityTooLarge, "Request body too large", "request_too_large")
	errNoRoute      = plain(http.StatusNotFound, "Not found", "not_found")
	errMethod       = plain(http.StatusMethodNotAllowed, "Method not allowed", "method_not_allowed")
)

// Business error codes beyond CoinsPaid's invalid_invoice_state.
const (
	codeInvalidState       = "invalid_invoice_state"
	codeInvoiceNotFound    = "invoice_not_found"
	codeCallbackNotFound   = "callback_not_found"
	codeClaimNotFound      = "refund_claim_not_found"
	codeInvalidClaimState  = "invalid_refund_claim_state"
	codeRateUnavailable    = "rate_unavailable"
	codeConflict           = "conflict"
	codeUnavailable        = "service_unavailable"
	codeInternal           = "internal_error"
	codeInvalidTransaction = "invalid_transaction"
)

// notFound says which kind of thing an ErrNotFound is about.
type notFound struct {
	msg, code string
}

var (
	invoiceNotFound  = notFound{"Invoice not found.", codeInvoiceNotFound}
	callbackNotFound = notFound{"Callback not found.", codeCallbackNotFound}
	claimNotFound    = notFound{"Refund claim not found.", codeClaimNotFound}
)

// fromEngine maps an engine error to its answer (see the package
// documentation for the table). internal reports whether it is unexpected
// (a 5xx), to be logged.
func fromEngine(err error, nf notFound) (e *apiError, internal bool) {
	var verr *invoice.ValidationError
	var terr *invoice.TransitionError
	switch {
	case errors.As(err, &verr):
		m := make(map[string]string, len(verr.Fields))
		for _, f := range verr.Fields {
			if _, dup := m[f.Field]; !dup {
				m[f.Field] = f.Message
			}
		}
		return fields(m), false
	case errors.As(err, &terr):
		return business(http.StatusBadRequest, terr.Error(), terr.Code()), false
	case errors.Is(err, invoice.ErrInvalidState):
		return business(http.StatusBadRequest, "Invoice cannot be failed in its current state.", codeInvalidState), false
	case errors.Is(err, invoice.ErrNotFound):
		return business(http.StatusNotFound, nf.msg, nf.code), false
	case errors.Is(err, invoice.ErrRefundClaim):
		return business(http.StatusBadRequest, "The refund claim cannot take this step in its current state.", codeInvalidClaimState), false
	case errors.Is(err, invoice.ErrDuplicate):
		return field("foreign_id", "The foreign id has already been taken."), false
	case errors.Is(err, invoice.ErrUnknownValue), errors.Is(err, invoice.ErrValidation):
		return business(http.StatusBadRequest, "The request is invalid.", "invalid_request"), false
	case errors.Is(err, invoice.ErrTransaction):
		return business(http.StatusBadRequest, "The transaction report contradicts the record.", codeInvalidTransaction), false
	case errors.Is(err, invoice.ErrRate):
		return business(http.StatusServiceUnavailable, "No exchange rate is available now. Try again later.", codeRateUnavailable), true
	case errors.Is(err, invoice.ErrConflict), errors.Is(err, invoice.ErrLeaseLost):
		return business(http.StatusConflict, "The invoice is being changed by another request. Try again.", codeConflict), false
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return business(http.StatusServiceUnavailable, "The request was not completed in time. Try again.", codeUnavailable), true
	}
	return business(http.StatusInternalServerError, "Internal error.", codeInternal), true
}
