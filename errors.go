package invoice

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Errors returned by the engine wrap one of these (or are
// typed errors that match them with errors.Is), with context.
var (
	// ErrNotFound: no invoice (or delivery, or refund claim) matches.
	ErrNotFound = errors.New("invoice: not found")
	// ErrDuplicate: an invoice with this foreign_id already exists.
	ErrDuplicate = errors.New("invoice: duplicate foreign_id")
	// ErrConflict: the invoice changed since it was read (optimistic
	// concurrency); the engine retries these itself.
	ErrConflict = errors.New("invoice: concurrent update conflict")
	// ErrInvalidState: the requested transition is not allowed in the
	// invoice's current status. See TransitionError.
	ErrInvalidState = errors.New("invoice: invalid invoice state")
	// ErrValidation: the request is invalid. See ValidationError.
	ErrValidation = errors.New("invoice: validation failed")
	// ErrUnknownValue: a string does not name a known status, type or mode.
	ErrUnknownValue = errors.New("invoice: unknown value")
	// ErrRate: no usable rate (missing, zero or negative).
	ErrRate = errors.New("invoice: no usable rate")
	// ErrLeaseLost: a delivery's lease expired and another engine holds it.
	ErrLeaseLost = errors.New("invoice: delivery lease lost")
	// ErrRefundClaim: the refund claim token redeems nothing, or the claim
	// cannot take this step. For a token that belongs to no claim
	// (malformed, unknown, forged, another invoice's) the engine returns
	// exactly this value, whatever was wrong.
	ErrRefundClaim = errors.New("invoice: refund claim not redeemable")
	// ErrRefundClaimRedeemed: a genuine token of a claim that was already
	// redeemed (or paid). It matches ErrRefundClaim too.
	ErrRefundClaimRedeemed = fmt.Errorf("%w: already redeemed", ErrRefundClaim)
	// ErrTransaction: a transaction report contradicts what is recorded
	// (another amount or currency for a txid, or a final status changing).
	ErrTransaction = errors.New("invoice: transaction report contradicts the record")
	// ErrConfig: the engine configuration is invalid.
	ErrConfig = errors.New("invoice: invalid configuration")
	// ErrPanic: a Store, Notifier or CustomerNotifier panicked; the engine
	// recovered. See PanicError.
	ErrPanic = errors.New("invoice: recovered panic")
)

// PanicError is a panic the engine recovered from, in a Store, Notifier or
// CustomerNotifier call made by Sweep, DeliverDue or Run. It matches
// ErrPanic. The stack is logged where it was recovered.
type PanicError struct {
	In    string // what was running: "notifier", "claim deliveries", "sweep", ...
	Value any    // the value passed to panic
}

// Error describes the panic (URLs in its value redacted).
func (e *PanicError) Error() string {
	return "invoice: recovered panic in " + e.In + ": " + RedactURLs(fmt.Sprint(e.Value))
}

// Is matches ErrPanic.
func (e *PanicError) Is(target error) bool { return target == ErrPanic }

// FieldError is one invalid field of a request.
type FieldError struct {
	Field   string // the request's field name, e.g. "foreign_id"
	Message string // human-readable, e.g. "The foreign id has already been taken."
}

// ValidationError lists every invalid field of a request. It matches
// ErrValidation with errors.Is, and ErrDuplicate too when foreign_id is
// already taken.
type ValidationError struct {
	Fields    []FieldError
	duplicate bool
}

// Error joins the field messages.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invoice: invalid request: ")
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Field)
		b.WriteString(": ")
		b.WriteString(f.Message)
	}
	return b.String()
}

// Field returns the message for a field, or "" when the field is valid.
func (e *ValidationError) Field(name string) string {
	for _, f := range e.Fields {
		if f.Field == name {
			return f.Message
		}
	}
	return ""
}

// Is matches ErrValidation, and ErrDuplicate for a taken foreign_id.
func (e *ValidationError) Is(target error) bool {
	return target == ErrValidation || (e.duplicate && target == ErrDuplicate)
}

func (e *ValidationError) add(field, msg string) {
	e.Fields = append(e.Fields, FieldError{Field: field, Message: msg})
}

// orNil returns nil when no field was added, and otherwise a copy of e on
// the heap: validators keep their ValidationError on the stack, so a valid
// request allocates nothing for it.
func (e *ValidationError) orNil() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	cp := *e
	return &cp
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
