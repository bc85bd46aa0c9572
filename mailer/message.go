package mailer

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"net/url"
	texttemplate "text/template"

	"github.com/cryptoinvoice/invoice"
)

//go:embed templates/*
var embedded embed.FS

// Message is what the templates are given.
type Message struct {
	Merchant        string // Branding.Name
	LogoURL         string // Branding.LogoURL, or ""
	AccentColor     string // Branding.AccentColor (defaulted)
	ButtonTextColor string // Branding.ButtonTextColor (defaulted)
	SupportEmail    string // Branding.SupportEmail, or ""
	Amount          string // the refund amount, exact (e.g. "0.001")
	Currency        string // the currency the refund is paid in (e.g. "BTC")
	Reason          string // why the customer is refunded, in words for the customer (see reasonText)
	EngineReason    string // the engine's reason as recorded (e.g. "Timer expired. User paid less than requested.")
	ForeignID       string // the merchant's order ID for the invoice
	Link            string // the claim page link, with the token: keep it out of logs
}

// Rendered is a message ready to send.
type Rendered struct {
	Subject string
	Text    string
	HTML    string
}

// templates are the parsed subject, text and HTML templates.
type templates struct {
	subject, text *texttemplate.Template
	html          *htmltemplate.Template
}

func parseTemplates(fsys fs.FS) (*templates, error) {
	if fsys == nil {
		sub, err := fs.Sub(embedded, "templates")
		if err != nil {
			return nil, err
		}
		fsys = sub
	}
	var t templates
	var err error
	opt := "missingkey=error"
	if t.subject, err = texttemplate.New("subject.txt").Option(opt).ParseFS(fsys, "subject.txt"); err != nil {
		return nil, fmt.Errorf("mailer: templates: %w", err)
	}
	if t.text, err = texttemplate.New("body.txt").Option(opt).ParseFS(fsys, "body.txt"); err != nil {
		return nil, fmt.Errorf("mailer: templates: %w", err)
	}
	if t.html, err = htmltemplate.New("body.html").Option(opt).ParseFS(fsys, "body.html"); err != nil {
		return nil, fmt.Errorf("mailer: templates: %w", err)
	}
	return &t, nil
}

// message is the template data for a notice.
func (m *Mailer) message(n *invoice.RefundNotice) Message {
	b := m.cfg.Branding
	return Message{
		Merchant: b.Name, LogoURL: b.LogoURL, AccentColor: b.AccentColor, ButtonTextColor: b.ButtonTextColor,
		SupportEmail: b.SupportEmail,
		Amount:       n.Amount.String(), Currency: n.Currency, Reason: reasonText(n.Reason), EngineReason: n.Reason,
		ForeignID: n.ForeignID,
		Link:      m.Link(n.Token),
	}
}

// Link returns the claim page link for a token: Config.ClaimBaseURL +
// "/" + the token, path-escaped.
func (m *Mailer) Link(token string) string {
	return m.cfg.ClaimBaseURL + "/" + url.PathEscape(token)
}

// Render renders the message for a notice (which must carry its Token),
// without sending it: for previews, and for hosts that deliver mail some
// other way. Its errors never contain the token.
func (m *Mailer) Render(n *invoice.RefundNotice) (*Rendered, error) {
	if n.Token == "" {
		return nil, fmt.Errorf("mailer: refund notice for claim %s has no token (only the engine's notice to the CustomerNotifier has one)", n.ClaimID)
	}
	data := m.message(n)
	var subj, text, html bytes.Buffer
	// Template errors name the template and field, never the data.
	if err := m.tmpl.subject.Execute(&subj, data); err != nil {
		return nil, fmt.Errorf("mailer: render subject: %w", err)
	}
	if err := m.tmpl.text.Execute(&text, data); err != nil {
		return nil, fmt.Errorf("mailer: render text part: %w", err)
	}
	if err := m.tmpl.html.Execute(&html, data); err != nil {
		return nil, fmt.Errorf("mailer: render HTML part: %w", err)
	}
	return &Rendered{Subject: oneLine(subj.String()), Text: text.String(), HTML: html.String()}, nil
}

// oneLine makes a subject a single line: line breaks become spaces and
// surrounding white space goes.
func oneLine(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '\r' || c == '\n' || c == '\t' {
			b[i] = ' '
		}
	}
	return string(bytes.TrimSpace(b))
}

// customerReasons words the engine's reasons for the customer, as the
// claim page's English catalog does.
var customerReasons = map[string]string{
	invoice.ReasonNotPaid:             "The time ran out before a payment arrived.",
	invoice.ReasonPaidLess:            "Less than the amount asked was paid in time.",
	invoice.ReasonProcessingTooLong:   "The payment was not confirmed in time.",
	invoice.ReasonFlagged:             "A payment was flagged by compliance checks.",
	invoice.ReasonCancelled:           "The invoice was cancelled.",
	invoice.RefundReasonOverpaid:      "You paid more than asked.",
	invoice.RefundReasonLate:          "The payment arrived after the invoice was closed.",
	invoice.RefundReasonWrongCurrency: "The payment was in another currency.",
}

// reasonText is the customer's wording of a reason; an unknown reason
// (a merchant's own) is shown as it is.
func reasonText(reason string) string {
	if s, ok := customerReasons[reason]; ok {
		return s
	}
	return reason
}
