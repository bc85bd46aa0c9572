package invoice_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/cryptoinvoice/invoice"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// allowed lists, from the specification (§3), every allowed transition.
// Everything else must be refused.
var allowed = map[string]invoice.Status{
	"created/confirm":                invoice.StatusPending,
	"created/part_paid":              invoice.StatusCreated,
	"created/funds_seen":             invoice.StatusProcessing,
	"created/expired_unpaid":         invoice.StatusFailed,
	"created/expired_partial":        invoice.StatusFailed,
	"created/cancel":                 invoice.StatusFailed,
	"created/unaccounted_payment":    invoice.StatusCreated,
	"pending/part_paid":              invoice.StatusPending,
	"pending/funds_seen":             invoice.StatusProcessing,
	"pending/expired_unpaid":         invoice.StatusFailed,
	"pending/expired_partial":        invoice.StatusFailed,
	"pending/flagged":                invoice.StatusFailed,
	"pending/cancel":                 invoice.StatusFailed,
	"pending/unaccounted_payment":    invoice.StatusPending,
	"processing/funds_confirmed":     invoice.StatusConfirmed,
	"processing/underpaid":           invoice.StatusFailed,
	"processing/funds_reverted":      invoice.StatusPending,
	"processing/expired_unpaid":      invoice.StatusFailed,
	"processing/expired_partial":     invoice.StatusFailed,
	"processing/processing_timeout":  invoice.StatusFailed,
	"processing/flagged":             invoice.StatusFailed,
	"processing/cancel":              invoice.StatusFailed,
	"processing/unaccounted_payment": invoice.StatusProcessing,
	"confirmed/unaccounted_payment":  invoice.StatusConfirmed,
	"failed/unaccounted_payment":     invoice.StatusFailed,
}

func TestTransitionTableMatchesSpec(t *testing.T) {
	seen := 0
	for _, from := range invoice.Statuses() {
		for ev := invoice.EventConfirm; ev <= invoice.EventUnaccounted; ev++ {
			key := fmt.Sprintf("%s/%s", from, ev)
			to, ok := invoice.Transition(from, ev)
			want, wantOK := allowed[key]
			assert.Equal(t, wantOK, ok, key)
			if wantOK {
				seen++
				assert.Equal(t, want, to, key)
			}
			if from.IsFinal() && ok {
				assert.Equal(t, from, to, "a final status never changes: %s", key)
			}
		}
	}
	assert.Equal(t, len(allowed), seen)
	_, ok := invoice.Transition(0, invoice.EventCancel)
	assert.False(t, ok)
	_, ok = invoice.Transition(invoice.StatusCreated, 200)
	assert.False(t, ok)
}

func TestFailureReasonsAreTheSpecTexts(t *testing.T) {
	for ev, want := range map[invoice.Event]string{
		invoice.EventExpiredUnpaid:     "Timer expired. User not paid.",
		invoice.EventExpiredPartial:    "Timer expired. User paid less than requested.",
		invoice.EventUnderpaid:         "Timer expired. User paid less than requested.",
		invoice.EventProcessingTimeout: "Timer expired. Transactions were in status processing too long.",
		invoice.EventFlagged:           "Transaction flagged by compliance.",
		invoice.EventCancel:            "Cancelled by customer",
		invoice.EventConfirm:           "",
		invoice.EventFundsConfirmed:    "",
	} {
		assert.Equal(t, want, invoice.FailureReason(ev), ev.String())
	}
}

func TestTransitionErrorIsTypedAndMatchesSentinel(t *testing.T) {
	var err error = &invoice.TransitionError{ForeignID: "o-1", Status: invoice.StatusConfirmed, Event: invoice.EventCancel}
	assert.True(t, errors.Is(fmt.Errorf("wrapped: %w", err), invoice.ErrInvalidState))
	var te *invoice.TransitionError
	require.True(t, errors.As(fmt.Errorf("wrapped: %w", err), &te))
	assert.Equal(t, "invalid_invoice_state", te.Code())
	assert.Equal(t, "Invoice cannot be failed in its current state.", te.Error())
	assert.Equal(t, invoice.StatusConfirmed, te.Status)
	assert.Equal(t, invoice.EventCancel, te.Event)
}

func TestTransitionCheckDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(1000, func() {
		_, _ = invoice.Transition(invoice.StatusProcessing, invoice.EventFundsConfirmed)
		_, _ = invoice.Transition(invoice.StatusConfirmed, invoice.EventCancel)
	})
	assert.Zero(t, allocs)
}

func TestEnumsMarshalToSpecStringsAndRejectUnknown(t *testing.T) {
	for _, st := range invoice.Statuses() {
		b, err := json.Marshal(st)
		require.NoError(t, err)
		assert.Equal(t, `"`+st.String()+`"`, string(b))
		var back invoice.Status
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, st, back)
	}
	var st invoice.Status
	assert.ErrorIs(t, json.Unmarshal([]byte(`"paid"`), &st), invoice.ErrUnknownValue)
	_, err := json.Marshal(invoice.Status(0))
	assert.Error(t, err)

	for typ, name := range map[invoice.Type]string{invoice.TypeNoTimer: "no_timer", invoice.TypeTimer: "timer", invoice.TypeTimerCurrency: "timer_currency"} {
		b, err := json.Marshal(typ)
		require.NoError(t, err)
		assert.Equal(t, `"`+name+`"`, string(b))
		var back invoice.Type
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, typ, back)
	}
	var typ invoice.Type
	assert.ErrorIs(t, json.Unmarshal([]byte(`"other"`), &typ), invoice.ErrUnknownValue)

	for mode, name := range map[invoice.PaymentMode]string{invoice.ModeFillOrKill: "fill_or_kill", invoice.ModeGoodUntilExpired: "good_until_expired"} {
		b, err := json.Marshal(mode)
		require.NoError(t, err)
		assert.Equal(t, `"`+name+`"`, string(b))
		var back invoice.PaymentMode
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, mode, back)
	}
	var mode invoice.PaymentMode
	assert.ErrorIs(t, json.Unmarshal([]byte(`"partial"`), &mode), invoice.ErrUnknownValue)

	for _, name := range []string{"not_confirmed", "confirmed", "cancelled"} {
		var ts invoice.TxStatus
		require.NoError(t, json.Unmarshal([]byte(`"`+name+`"`), &ts))
		assert.Equal(t, name, ts.String())
	}
	var ts invoice.TxStatus
	assert.ErrorIs(t, json.Unmarshal([]byte(`"mined"`), &ts), invoice.ErrUnknownValue)
}

func TestTypeOf(t *testing.T) {
	typ, ok := invoice.TypeOf(false, "")
	assert.True(t, ok)
	assert.Equal(t, invoice.TypeNoTimer, typ)
	typ, ok = invoice.TypeOf(true, "")
	assert.True(t, ok)
	assert.Equal(t, invoice.TypeTimer, typ)
	typ, ok = invoice.TypeOf(true, "BTC")
	assert.True(t, ok)
	assert.Equal(t, invoice.TypeTimerCurrency, typ)
	_, ok = invoice.TypeOf(false, "BTC")
	assert.False(t, ok)
}
