package invoice

import "fmt"

// Event is something that happens to an invoice. Every change of an invoice's
// status goes through Transition with one of these events.
type Event uint8

// The events of the invoice lifecycle.
const (
	// EventConfirm: the customer confirmed the payment currency and/or e-mail.
	EventConfirm Event = iota + 1
	// EventPartPaid: an installment part arrived that does not yet cover the
	// amount (good_until_expired); a callback is sent, the status stays.
	EventPartPaid
	// EventFundsSeen: the accounted funds justify processing.
	EventFundsSeen
	// EventFundsConfirmed: every accounted transaction is confirmed and the
	// total covers the amount.
	EventFundsConfirmed
	// EventUnderpaid: every accounted transaction is confirmed but the total
	// is short.
	EventUnderpaid
	// EventFundsReverted: a transaction was cancelled and what remains no
	// longer justifies processing.
	EventFundsReverted
	// EventExpiredUnpaid: the payment window ran out with nothing received.
	EventExpiredUnpaid
	// EventExpiredPartial: the payment window ran out with a partial total.
	EventExpiredPartial
	// EventProcessingTimeout: the processing window ran out.
	EventProcessingTimeout
	// EventFlagged: the host flagged a transaction for compliance.
	EventFlagged
	// EventCancel: the merchant cancelled the invoice by foreign_id.
	EventCancel
	// EventUnaccounted: a payment that does not count toward the invoice
	// (late, or in another currency) was recorded; the status stays and the
	// merchant gets a callback.
	EventUnaccounted

	numEvents
)

var eventNames = [...]string{
	EventConfirm:           "confirm",
	EventPartPaid:          "part_paid",
	EventFundsSeen:         "funds_seen",
	EventFundsConfirmed:    "funds_confirmed",
	EventUnderpaid:         "underpaid",
	EventFundsReverted:     "funds_reverted",
	EventExpiredUnpaid:     "expired_unpaid",
	EventExpiredPartial:    "expired_partial",
	EventProcessingTimeout: "processing_timeout",
	EventFlagged:           "flagged",
	EventCancel:            "cancel",
	EventUnaccounted:       "unaccounted_payment",
}

// String returns a stable snake_case name of the event.
func (e Event) String() string {
	if e >= EventConfirm && e < numEvents {
		return eventNames[e]
	}
	return fmt.Sprintf("Event(%d)", uint8(e))
}

// The exact failure reasons of the specification, stored in Invoice.Error
// and sent as the callback's "error" field.
const (
	ReasonNotPaid           = "Timer expired. User not paid."
	ReasonPaidLess          = "Timer expired. User paid less than requested."
	ReasonProcessingTooLong = "Timer expired. Transactions were in status processing too long."
	ReasonFlagged           = "Transaction flagged by compliance."
	ReasonCancelled         = "Cancelled by customer"
)

// transitions is the single transition table of the engine:
// transitions[from][event] is the status after the event, or 0 when the
// event is refused in that status. Every operation goes through Transition.
var transitions = [StatusFailed + 1][numEvents]Status{
	StatusCreated: {
		EventConfirm:        StatusPending,
		EventPartPaid:       StatusCreated,
		EventFundsSeen:      StatusProcessing,
		EventExpiredUnpaid:  StatusFailed,
		EventExpiredPartial: StatusFailed,
		EventCancel:         StatusFailed,
		EventUnaccounted:    StatusCreated,
	},
	StatusPending: {
		EventPartPaid:       StatusPending,
		EventFundsSeen:      StatusProcessing,
		EventExpiredUnpaid:  StatusFailed,
		EventExpiredPartial: StatusFailed,
		EventFlagged:        StatusFailed,
		EventCancel:         StatusFailed,
		EventUnaccounted:    StatusPending,
	},
	StatusProcessing: {
		EventFundsConfirmed:    StatusConfirmed,
		EventUnderpaid:         StatusFailed,
		EventFundsReverted:     StatusPending,
		EventExpiredUnpaid:     StatusFailed, // a revert after the payment window ran out
		EventExpiredPartial:    StatusFailed, // likewise, with a partial total left
		EventProcessingTimeout: StatusFailed,
		EventFlagged:           StatusFailed,
		EventCancel:            StatusFailed,
		EventUnaccounted:       StatusProcessing,
	},
	StatusConfirmed: {
		EventUnaccounted: StatusConfirmed,
	},
	StatusFailed: {
		EventUnaccounted: StatusFailed,
	},
}

// failureReasons gives the Invoice.Error text of each event that fails an
// invoice.
var failureReasons = [numEvents]string{
	EventUnderpaid:         ReasonPaidLess,
	EventExpiredUnpaid:     ReasonNotPaid,
	EventExpiredPartial:    ReasonPaidLess,
	EventProcessingTimeout: ReasonProcessingTooLong,
	EventFlagged:           ReasonFlagged,
	EventCancel:            ReasonCancelled,
}

// Transition returns the status an invoice in status from moves to on
// event, and whether the transition is allowed. It never allocates.
func Transition(from Status, event Event) (Status, bool) {
	if from > StatusFailed || event >= numEvents {
		return 0, false
	}
	to := transitions[from][event]
	return to, to != 0
}

// FailureReason returns the spec's failure text for an event that fails an
// invoice, or "" for any other event.
func FailureReason(event Event) string {
	if event >= numEvents {
		return ""
	}
	return failureReasons[event]
}

// TransitionError reports a refused transition. Nothing was changed. It
// matches ErrInvalidState with errors.Is.
type TransitionError struct {
	ForeignID string // the invoice's foreign_id
	Status    Status // the invoice's current status
	Event     Event  // the refused event
}

// Code returns the API error code, "invalid_invoice_state".
func (e *TransitionError) Code() string { return "invalid_invoice_state" }

// Error returns the API message. For events that would fail the invoice
// (cancel, compliance flag) it is exactly
// "Invoice cannot be failed in its current state.".
func (e *TransitionError) Error() string {
	switch e.Event {
	case EventCancel, EventFlagged:
		return "Invoice cannot be failed in its current state."
	case EventConfirm:
		return "Invoice cannot be confirmed in its current state."
	default:
		return fmt.Sprintf("Invoice cannot accept %s in its current state.", e.Event)
	}
}

// Is makes errors.Is(err, ErrInvalidState) true.
func (e *TransitionError) Is(target error) bool { return target == ErrInvalidState }
