package invoice

import "fmt"

// Status is the lifecycle status of an invoice. The zero value is not a valid
// status; it marshals to an error and is never stored.
type Status uint8

// The five invoice statuses of the specification.
const (
	// StatusCreated: the invoice exists; payment details are not yet fixed
	// and confirmed by the customer.
	StatusCreated Status = iota + 1
	// StatusPending: payment currency, amount, deposit address and customer
	// e-mail are fixed; waiting for funds (or for the next installment).
	StatusPending
	// StatusProcessing: funds were seen in the mempool; waiting for
	// confirmations.
	StatusProcessing
	// StatusConfirmed: paid in full and confirmed. Final.
	StatusConfirmed
	// StatusFailed: failed or cancelled; Invoice.Error says why. Final.
	StatusFailed
)

var statusNames = [...]string{
	StatusCreated:    "created",
	StatusPending:    "pending",
	StatusProcessing: "processing",
	StatusConfirmed:  "confirmed",
	StatusFailed:     "failed",
}

// Statuses lists every valid status in lifecycle order.
func Statuses() []Status {
	return []Status{StatusCreated, StatusPending, StatusProcessing, StatusConfirmed, StatusFailed}
}

// String returns the specification's name of the status ("created", ...).
func (s Status) String() string {
	if s.Valid() {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// Valid reports whether s is one of the five statuses.
func (s Status) Valid() bool { return s >= StatusCreated && s <= StatusFailed }

// IsFinal reports whether no further status change is possible
// (confirmed or failed).
func (s Status) IsFinal() bool { return s == StatusConfirmed || s == StatusFailed }

// ParseStatus returns the status named by s, or an error wrapping
// ErrUnknownValue for any other string.
func ParseStatus(s string) (Status, error) {
	for st := StatusCreated; st <= StatusFailed; st++ {
		if statusNames[st] == s {
			return st, nil
		}
	}
	return 0, fmt.Errorf("invoice: unknown status %q: %w", s, ErrUnknownValue)
}

// MarshalText implements encoding.TextMarshaler.
func (s Status) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("invoice: cannot marshal invalid status %d: %w", uint8(s), ErrUnknownValue)
	}
	return []byte(statusNames[s]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; unknown names are refused.
func (s *Status) UnmarshalText(b []byte) error {
	st, err := ParseStatus(string(b))
	if err != nil {
		return err
	}
	*s = st
	return nil
}
