package checkout

import (
	"context"
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/checkout/i18n"
)

// Phases of the page: what the customer is asked or told.
const (
	phaseChoose     = "choose"     // created: choose a currency and/or give an e-mail
	phasePay        = "pay"        // pending: send the payment
	phaseProcessing = "processing" // funds seen, waiting for confirmations
	phaseConfirmed  = "confirmed"
	phaseFailed     = "failed"
	phaseExpired    = "expired" // the window has passed; the sweep has not failed it yet
)

// invoiceView is everything invoice.html shows, computed by the server
// from the stored invoice and the clock.
type invoiceView struct {
	Token       string
	Title       string
	Description string
	Amount      string // invoice amount and currency, e.g. "100.00 EUR"
	Status      string // the engine's status
	Phase       string
	Final       bool
	StatusText  string
	Version     int64
	ETag        string
	StatusURL   string
	FormAction  string
	PollMS      int64

	HasTimer     bool
	SecondsLeft  int64
	TimerText    string // "14:53"
	DeadlineISO  string
	DeadlineText string // "12:15 UTC"

	Choose *chooseView
	Pay    *payView
	Paid   *paidView

	URLSuccess string
	URLFailed  string
	Reason     string // translated failure reason

	Refunds       []string // one explanation per refund claim
	Late          []string // payments that do not count toward the invoice
	RefundPending bool     // payments of a closed invoice that will be refunded once confirmed

	Errors map[string]string // form errors by field ("currency", "email")
	Email  string            // the form's e-mail value after an error
}

type chooseView struct {
	NeedCurrency bool
	NeedEmail    bool
	Indicative   bool // type 1: rates are indicative, fixed on confirmation
	Options      []optionView
	Fixed        string // type 3: "0.00166667 BTC", the pre-selected amount
}

type optionView struct {
	Code, Network, Amount, Rate string
	Checked                     bool
}

type payView struct {
	Amount, Currency, Address, Tag, Network string
	URI                                     template.URL
	QR                                      template.HTML
	Partial                                 bool // part of the amount already arrived
}

type paidView struct {
	Received, Remaining, Currency string
	Txs                           []txView
}

type txView struct {
	TxID, Amount, Currency, Status string
}

// buildView computes the page of inv at now in the language of m.
func (h *Handler) buildView(ctx context.Context, inv *invoice.Invoice, m *i18n.Messages, now time.Time) *invoiceView {
	v := &invoiceView{
		Token:       inv.CheckoutToken,
		Title:       inv.Title,
		Description: inv.Description,
		Amount:      h.fiat(m, inv.Amount, inv.Currency),
		Status:      inv.Status.String(),
		Final:       inv.Status.IsFinal(),
		Version:     inv.Version,
		URLSuccess:  inv.URLSuccess,
		URLFailed:   inv.URLFailed,
		PollMS:      h.cfg.PollInterval.Milliseconds(),
	}
	v.Phase = phaseOf(inv, now)
	if v.Phase == phaseFailed {
		v.Reason = reasonText(m, inv.Error)
	}
	v.ETag = etagOf(inv, v.Phase, m.Lang())

	if (v.Phase == phaseChoose || v.Phase == phasePay) && !inv.ExpiresAt.IsZero() {
		left := inv.ExpiresAt.Sub(now)
		v.HasTimer = true
		v.SecondsLeft = int64((left + time.Second - 1) / time.Second) // round up: 0 only when over
		v.TimerText = clockText(v.SecondsLeft)
		v.DeadlineISO = inv.ExpiresAt.UTC().Format(time.RFC3339)
		v.DeadlineText = inv.ExpiresAt.UTC().Format("15:04") + " UTC"
	}

	switch v.Phase {
	case phaseChoose:
		v.Choose = h.chooseView(ctx, inv, m)
	case phasePay:
		v.Pay = h.payView(inv, m)
	}
	v.Paid = paidViewOf(inv, m)
	v.Refunds = refundTexts(inv, m)
	v.Late, v.RefundPending = latePayments(inv, m)
	v.StatusText = statusText(v, inv, m)
	return v
}

// phaseOf is what the page of inv shows at now.
func phaseOf(inv *invoice.Invoice, now time.Time) string {
	expired := !inv.ExpiresAt.IsZero() && !now.Before(inv.ExpiresAt)
	switch inv.Status {
	case invoice.StatusCreated:
		if expired {
			return phaseExpired
		}
		return phaseChoose
	case invoice.StatusPending:
		if expired {
			return phaseExpired
		}
		return phasePay
	case invoice.StatusProcessing:
		return phaseProcessing
	case invoice.StatusConfirmed:
		return phaseConfirmed
	}
	return phaseFailed
}

// etagOf names what the customer sees of inv: every stored change bumps
// the version; the phase also changes with the clock (expiry).
func etagOf(inv *invoice.Invoice, phase, lang string) string {
	return `"` + strconv.FormatInt(inv.Version, 10) + "-" + phase + "-" + lang + `"`
}

// clockText formats seconds as m:ss, or h:mm:ss from an hour up.
func clockText(s int64) string {
	if s < 0 {
		s = 0
	}
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// fiat formats an invoice-currency amount with the currency's precision
// and the language's decimal separator.
func (h *Handler) fiat(m *i18n.Messages, amount decimal.Decimal, currency string) string {
	s := amount.String()
	if cur, ok := h.engine.Currency(currency); ok {
		s = amount.StringFixed(cur.Precision)
	}
	if sep := m.T("number.decimal"); sep != "." && sep != "number.decimal" {
		s = strings.Replace(s, ".", sep, 1)
	}
	return s + " " + currency
}

func (h *Handler) network(code string) string {
	if n, ok := h.cfg.Networks[code]; ok {
		return n.Name
	}
	return code
}

func (h *Handler) chooseView(ctx context.Context, inv *invoice.Invoice, m *i18n.Messages) *chooseView {
	c := &chooseView{NeedCurrency: inv.SenderCurrency == "", NeedEmail: inv.Email == ""}
	if !c.NeedCurrency {
		c.Fixed = inv.SenderAmount.String() + " " + inv.SenderCurrency
		return c
	}
	rate := func(q invoice.Quote) string {
		return m.T("choose.rate", "currency", q.Currency, "rate", h.fiat(m, q.Rate, inv.Currency))
	}
	switch inv.Type {
	case invoice.TypeTimer:
		for _, q := range inv.Quotes {
			c.Options = append(c.Options, optionView{Code: q.Currency, Network: h.network(q.Currency),
				Amount: q.Amount.String() + " " + q.Currency, Rate: rate(q)})
		}
	default:
		c.Indicative = true
		for _, code := range h.engine.AcceptedCurrencies() {
			o := optionView{Code: code, Network: h.network(code)}
			q, err := h.engine.IndicativeQuote(ctx, inv, code)
			if err != nil {
				// The choice stays possible: the rate is fixed on
				// confirmation, which reports its own error.
				o.Amount = m.T("choose.no_rate")
			} else {
				o.Amount = m.T("choose.about", "amount", q.Amount.String()+" "+code)
				o.Rate = rate(q)
			}
			c.Options = append(c.Options, o)
		}
	}
	if len(c.Options) == 1 {
		c.Options[0].Checked = true
	}
	return c
}

func (h *Handler) payView(inv *invoice.Invoice, m *i18n.Messages) *payView {
	due := inv.RemainingAmount()
	p := &payView{
		Amount:   due.String(),
		Currency: inv.SenderCurrency,
		Address:  inv.Deposit.Address,
		Tag:      inv.Deposit.Tag,
		Network:  h.network(inv.SenderCurrency),
		Partial:  inv.ReceivedAmount().IsPositive(),
	}
	n, ok := h.cfg.Networks[inv.SenderCurrency]
	if !ok || inv.Deposit.Tag != "" {
		// No standard URI carries a tag or memo the same way for every
		// wallet: the customer copies the fields instead.
		return p
	}
	uri, err := n.PaymentURI(inv.Deposit.Address, due)
	if err != nil {
		return p
	}
	svg, err := h.qr.svg(uri, m.T("pay.qr_label", "currency", inv.SenderCurrency))
	if err != nil {
		return p
	}
	p.URI = template.URL(uri) // #nosec: bitcoin:/ethereum: URI of a validated address and amount
	p.QR = svg
	return p
}

func paidViewOf(inv *invoice.Invoice, m *i18n.Messages) *paidView {
	var txs []txView
	for _, t := range inv.Transactions {
		if !t.Accounted {
			continue
		}
		txs = append(txs, txView{TxID: shortTxID(t.TxID), Amount: t.Amount.String(), Currency: t.Currency,
			Status: m.T("tx." + t.Status.String())})
	}
	if len(txs) == 0 {
		return nil
	}
	return &paidView{
		Received:  inv.ReceivedAmount().String(),
		Remaining: inv.RemainingAmount().String(),
		Currency:  inv.SenderCurrency,
		Txs:       txs,
	}
}

func shortTxID(s string) string {
	if len(s) <= 20 {
		return s
	}
	return s[:10] + "…" + s[len(s)-8:]
}

// reasonKeys translates the engine's failure and refund reasons.
var reasonKeys = map[string]string{
	invoice.ReasonNotPaid:             "reason.not_paid",
	invoice.ReasonPaidLess:            "reason.paid_less",
	invoice.ReasonProcessingTooLong:   "reason.processing_too_long",
	invoice.ReasonFlagged:             "reason.flagged",
	invoice.ReasonCancelled:           "reason.cancelled",
	invoice.RefundReasonOverpaid:      "reason.overpaid",
	invoice.RefundReasonLate:          "reason.late",
	invoice.RefundReasonWrongCurrency: "reason.wrong_currency",
}

func reasonText(m *i18n.Messages, reason string) string {
	if k, ok := reasonKeys[reason]; ok {
		return m.T(k)
	}
	return reason
}

func refundTexts(inv *invoice.Invoice, m *i18n.Messages) []string {
	var out []string
	for _, rc := range inv.RefundClaims {
		amount := rc.Amount.String() + " " + rc.Currency
		var state string
		switch {
		case rc.Status == invoice.RefundPaid:
			state = m.T("refund.paid")
		case rc.Status == invoice.RefundRedeemed:
			state = m.T("refund.redeemed")
		case inv.Email != "":
			state = m.T("refund.open", "email", maskEmail(inv.Email))
		default:
			state = m.T("refund.open_no_email")
		}
		out = append(out, m.T("refund.item", "amount", amount, "reason", reasonText(m, rc.Reason), "state", state))
	}
	return out
}

// latePayments explains transactions that do not count toward the invoice
// (late, or in another currency), and whether money of a closed invoice
// still confirming will be refunded once confirmed.
func latePayments(inv *invoice.Invoice, m *i18n.Messages) (late []string, pending bool) {
	for _, t := range inv.Transactions {
		if t.Status == invoice.TxCancelled {
			continue
		}
		if !t.Accounted {
			late = append(late, m.T("late.item", "amount", t.Amount.String()+" "+t.Currency))
		}
		if inv.Status.IsFinal() && !t.Settled && t.Status == invoice.TxNotConfirmed {
			pending = true
		}
	}
	return late, pending
}

// maskEmail shows enough of the customer's address to recognise it:
// "a***@example.com".
func maskEmail(s string) string {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" {
		return "***"
	}
	r := []rune(local)
	return string(r[0]) + "***@" + domain
}

func statusText(v *invoiceView, inv *invoice.Invoice, m *i18n.Messages) string {
	switch v.Phase {
	case phaseChoose:
		if v.Choose != nil && v.Choose.NeedCurrency {
			return m.T("status.choose")
		}
		return m.T("status.email")
	case phasePay:
		if v.Pay != nil && v.Pay.Partial {
			return m.T("status.partial", "received", inv.ReceivedAmount().String(), "amount", inv.SenderAmount.String(),
				"currency", inv.SenderCurrency)
		}
		return m.T("status.pay")
	case phaseProcessing:
		return m.T("status.processing")
	case phaseConfirmed:
		return m.T("status.confirmed")
	case phaseExpired:
		return m.T("status.expired")
	}
	return m.T("status.failed", "reason", v.Reason)
}
