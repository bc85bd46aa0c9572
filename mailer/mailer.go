package mailer

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"strings"

	"github.com/cryptoinvoice/invoice"
	mail "github.com/wneessen/go-mail"
)

// Mailer is an invoice.CustomerNotifier that e-mails the claim link. It
// is safe for concurrent use: each delivery opens its own connection.
type Mailer struct {
	cfg        Config
	tmpl       *templates
	tls        *tls.Config
	fromDomain string
}

var _ invoice.CustomerNotifier = (*Mailer)(nil)

// New validates cfg, parses the templates and returns a Mailer. It does
// not connect to the server.
func New(cfg Config) (*Mailer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	t, err := parseTemplates(cfg.Templates)
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
		if tc.ServerName == "" {
			tc.ServerName = cfg.Host
		}
	}
	from, _ := netmail.ParseAddress(cfg.From) // checked by withDefaults
	_, domain, _ := strings.Cut(from.Address, "@")
	m := &Mailer{cfg: cfg, tmpl: t, tls: tc, fromDomain: domain}
	// Render once with sample data so a template that fails on every
	// notice is a configuration error now, not a dead delivery later.
	if _, err := m.Render(&invoice.RefundNotice{Token: "rc2_sample", Currency: "BTC", Reason: "Sample."}); err != nil {
		return nil, err
	}
	return m, nil
}

// NotifyCustomer e-mails the claim link of n to n.Email. It returns nil
// once the server accepted the message; ErrNoEmail (or nil, see
// Config.SkipMissingEmail) for a notice without an address; otherwise an
// *SMTPError matching ErrPermanent (5xx) or ErrTemporary (anything
// else). Every error makes the engine retry the delivery.
func (m *Mailer) NotifyCustomer(ctx context.Context, n *invoice.RefundNotice) error {
	log := m.cfg.Logger.With(slog.String("invoice_id", n.InvoiceID.String()),
		slog.String("claim_id", n.ClaimID.String()), slog.String("foreign_id", n.ForeignID))
	if n.Email == "" {
		if m.cfg.SkipMissingEmail {
			log.WarnContext(ctx, "mailer: refund notice has no e-mail address; skipped (reach the customer another way)")
			return nil
		}
		return fmt.Errorf("%w (invoice %s, claim %s)", ErrNoEmail, n.InvoiceID, n.ClaimID)
	}
	msg, err := m.build(n)
	if err != nil {
		return err
	}
	client, err := mail.NewClient(m.cfg.Host, m.clientOptions()...)
	if err != nil {
		return fmt.Errorf("mailer: SMTP client: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("mailer: send refund notice: %w", ctx.Err())
		}
		se := classify(err)
		attrs := []any{slog.String("stage", se.Stage), slog.Int("code", se.Code), slog.String("enhanced_code", se.EnhancedCode)}
		if se.Permanent() {
			log.ErrorContext(ctx, "mailer: SMTP server refused the refund e-mail permanently; will retry per the outbox schedule", attrs...)
		} else {
			log.WarnContext(ctx, "mailer: refund e-mail not sent (temporary); will retry", append(attrs, slog.String("error", se.Error()))...)
		}
		return se
	}
	log.InfoContext(ctx, "mailer: refund e-mail sent")
	return nil
}

// build renders n into a go-mail message.
func (m *Mailer) build(n *invoice.RefundNotice) (*mail.Msg, error) {
	r, err := m.Render(n)
	if err != nil {
		return nil, err
	}
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := msg.From(m.cfg.From); err != nil {
		return nil, fmt.Errorf("mailer: From: %w", err)
	}
	if err := msg.To(n.Email); err != nil {
		// The customer's address is theirs to fix: not a retryable SMTP
		// failure, and not logged (personal data).
		return nil, fmt.Errorf("mailer: the notice's e-mail address is not valid (invoice %s, claim %s): %w", n.InvoiceID, n.ClaimID, ErrPermanent)
	}
	if m.cfg.ReplyTo != "" {
		if err := msg.ReplyTo(m.cfg.ReplyTo); err != nil {
			return nil, fmt.Errorf("mailer: Reply-To: %w", err)
		}
	}
	msg.Subject(r.Subject)
	msg.SetDateWithValue(m.cfg.Clock.Now())
	msg.SetMessageIDWithValue(m.messageID())
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(mail.TypeTextPlain, r.Text)
	msg.AddAlternativeString(mail.TypeTextHTML, r.HTML)
	return msg, nil
}

// messageID is a random Message-ID on the sender's domain (go-mail's
// default names the local host, which is nobody's business).
func (m *Mailer) messageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails
	return hex.EncodeToString(b[:]) + "@" + m.fromDomain
}

func (m *Mailer) clientOptions() []mail.Option {
	opts := []mail.Option{
		mail.WithPort(m.cfg.Port),
		mail.WithTimeout(m.cfg.Timeout),
		mail.WithHELO(m.cfg.LocalName),
		mail.WithTLSConfig(m.tls),
	}
	switch m.cfg.Security {
	case StartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case ImplicitTLS:
		opts = append(opts, mail.WithSSL())
	case NoTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	}
	if m.cfg.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthType(m.cfg.Auth)),
			mail.WithUsername(m.cfg.Username), mail.WithPassword(m.cfg.Password))
	}
	return opts
}
