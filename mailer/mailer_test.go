package mailer_test

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	mail "github.com/wneessen/go-mail"

	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/mailer"
	"github.com/cryptoinvoice/invoice/mailer/mailertest"
)

const wantLink = "https://pay.shop.example/refund/" + testToken

func TestSendsTextAndHTMLWithTheLink(t *testing.T) {
	srv := mailertest.Start(t, mailertest.Options{})
	clock := invoicetest.NewClock(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	m := newMailer(t, config(srv, func(c *mailer.Config) { c.Clock = clock }))
	require.NoError(t, m.NotifyCustomer(ctx, notice()))

	msgs := srv.Messages()
	require.Len(t, msgs, 1)
	assert.Equal(t, "refunds@shop.example", msgs[0].From)
	assert.Equal(t, []string{"customer@example.com"}, msgs[0].To)
	assert.False(t, msgs[0].TLS)
	p := parse(t, msgs[0].Data)
	assert.Equal(t, []string{"text/plain", "text/html"}, p.RawParts)
	assert.Equal(t, "Example Shop: claim your refund of 0.001 BTC", p.Subject)
	assert.Equal(t, "<customer@example.com>", p.Header.Get("To"))
	assert.Equal(t, "<support@shop.example>", p.Header.Get("Reply-To"))
	assert.Equal(t, "auto-generated", p.Header.Get("Auto-Submitted"))
	date, err := p.Header.Date()
	require.NoError(t, err)
	assert.True(t, date.Equal(clock.Now()), "dated by the configured clock: %v", date)
	assert.Regexp(t, `^<[0-9a-f]{32}@shop\.example>$`, p.Header.Get("Message-Id"), "on the sender's domain, not the host's")

	assert.Contains(t, p.Text, wantLink)
	assert.Contains(t, p.Text, "0.001 BTC")
	assert.Contains(t, p.Text, "Reason: Less than the amount asked was paid in time.", "the engine's reason in the customer's words")
	assert.Contains(t, p.Text, "support@shop.example")
	assert.Contains(t, p.HTML, `href="`+wantLink+`"`)
	assert.Contains(t, p.HTML, `src="https://shop.example/logo.png"`)
	assert.Contains(t, p.HTML, "background:#0a7d3b")
	assert.Contains(t, p.HTML, "0.001 BTC")
}

func TestHTMLPartIsEscaped(t *testing.T) {
	srv := mailertest.Start(t, mailertest.Options{})
	m := newMailer(t, config(srv, func(c *mailer.Config) {
		c.Branding.Name = `A&B "Shop" <b>`
		c.Branding.LogoURL = ""
	}))
	n := notice()
	n.Reason = `<script>alert(1)</script>`
	n.ForeignID = `o"><img src=x onerror=alert(1)>`
	require.NoError(t, m.NotifyCustomer(ctx, n))
	p := parse(t, srv.Messages()[0].Data)
	assert.NotContains(t, p.HTML, "<script>")
	assert.NotContains(t, p.HTML, "<img src=x")
	assert.NotContains(t, p.HTML, "<b>")
	assert.Contains(t, p.HTML, "&lt;script&gt;alert(1)&lt;/script&gt;")
	assert.Contains(t, p.HTML, "A&amp;B &#34;Shop&#34; &lt;b&gt;")
	assert.Contains(t, p.Text, "<script>alert(1)</script>", "the text part is text: nothing to escape")
	assert.Equal(t, `A&B "Shop" <b>: claim your refund of 0.001 BTC`, p.Subject)
}

func TestStartTLSWithAuthPlain(t *testing.T) {
	srv := mailertest.Start(t, mailertest.Options{Mode: mailertest.StartTLS, Username: "shop", Password: "s3cret"})
	m := newMailer(t, config(srv, func(c *mailer.Config) {
		c.Security = mailer.StartTLS
		c.TLSConfig = srv.ClientTLS()
		c.Username, c.Password = "shop", "s3cret"
	}))
	require.NoError(t, m.NotifyCustomer(ctx, notice()))
	msgs := srv.Messages()
	require.Len(t, msgs, 1)
	assert.True(t, msgs[0].TLS, "upgraded with STARTTLS")
	assert.Equal(t, "shop", msgs[0].Auth)
	assert.Contains(t, parse(t, msgs[0].Data).Text, wantLink)
}

func TestImplicitTLSWithAuthPlain(t *testing.T) {
	srv := mailertest.Start(t, mailertest.Options{Mode: mailertest.ImplicitTLS, Username: "shop", Password: "s3cret"})
	m := newMailer(t, config(srv, func(c *mailer.Config) {
		c.Security = mailer.ImplicitTLS
		c.TLSConfig = srv.ClientTLS()
		c.Username, c.Password = "shop", "s3cret"
	}))
	require.NoError(t, m.NotifyCustomer(ctx, notice()))
	msgs := srv.Messages()
	require.Len(t, msgs, 1)
	assert.True(t, msgs[0].TLS)
	assert.Equal(t, "shop", msgs[0].Auth)
}

func TestConnectionFailuresAreTemporary(t *testing.T) {
	plain := mailertest.Start(t, mailertest.Options{})
	tlsSrv := mailertest.Start(t, mailertest.Options{Mode: mailertest.StartTLS})
	authSrv := mailertest.Start(t, mailertest.Options{Mode: mailertest.StartTLS, Username: "shop", Password: "s3cret"})
	cases := map[string]struct {
		srv       *mailertest.Server
		mutate    func(*mailer.Config)
		permanent bool
	}{
		"STARTTLS required, server offers none": {plain, func(c *mailer.Config) { c.Security = mailer.StartTLS }, false},
		"untrusted certificate":                 {tlsSrv, func(c *mailer.Config) { c.Security = mailer.StartTLS }, false},
		"nothing listening":                     {plain, func(c *mailer.Config) { c.Port = closedPort(t) }, false},
		"wrong password": {authSrv, func(c *mailer.Config) {
			c.Security, c.TLSConfig = mailer.StartTLS, authSrv.ClientTLS()
			c.Username, c.Password = "shop", "wrong"
		}, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var logs logBuffer
			m := newMailer(t, config(tc.srv, tc.mutate, func(c *mailer.Config) { c.Logger = logs.logger(); c.Timeout = 5 * time.Second }))
			err := m.NotifyCustomer(ctx, notice())
			require.Error(t, err)
			assert.Equal(t, tc.permanent, errors.Is(err, mailer.ErrPermanent), "%v", err)
			assert.Equal(t, !tc.permanent, errors.Is(err, mailer.ErrTemporary), "%v", err)
			assertNoSecrets(t, err.Error())
			assertNoSecrets(t, logs.String())
			assert.Empty(t, tc.srv.Messages())
		})
	}
}

func TestTemporaryRefusal(t *testing.T) {
	srv := mailertest.Start(t, mailertest.Options{})
	var logs logBuffer
	m := newMailer(t, config(srv, func(c *mailer.Config) { c.Logger = logs.logger() }))
	srv.Refuse(mailertest.Refusal{Code: 451, EnhancedCode: [3]int{4, 3, 0}, Message: "try again later"})
	err := m.NotifyCustomer(ctx, notice())
	require.Error(t, err)
	assert.ErrorIs(t, err, mailer.ErrTemporary)
	assert.NotErrorIs(t, err, mailer.ErrPermanent)
	var se *mailer.SMTPError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 451, se.Code)
	assert.Equal(t, "4.3.0", se.EnhancedCode)
	assert.Equal(t, "RCPT TO", se.Stage)
	assert.Equal(t, "mailer: SMTP RCPT TO: reply 451 4.3.0 (temporary)", err.Error())
	var sendErr *mail.SendError
	assert.False(t, errors.As(err, &sendErr), "go-mail's SendError holds the message with the link: not reachable from the error")
	assert.Contains(t, logs.String(), "level=WARN")
	assertNoSecrets(t, logs.String())

	require.NoError(t, m.NotifyCustomer(ctx, notice()), "the next attempt is accepted")
	assert.Len(t, srv.Messages(), 1)
}

func TestPermanentRefusal(t *testing.T) {
	srv := mailertest.Start(t, mailertest.Options{})
	var logs logBuffer
	m := newMailer(t, config(srv, func(c *mailer.Config) { c.Logger = logs.logger() }))
	srv.Refuse(mailertest.Refusal{Code: 550, EnhancedCode: [3]int{5, 1, 1}, Message: "no such user customer@example.com"})
	err := m.NotifyCustomer(ctx, notice())
	require.Error(t, err)
	assert.ErrorIs(t, err, mailer.ErrPermanent)
	assert.NotErrorIs(t, err, mailer.ErrTemporary)
	assert.Equal(t, "mailer: SMTP RCPT TO: reply 550 5.1.1 (permanent)", err.Error())
	assert.Contains(t, logs.String(), "level=ERROR")
	assert.Contains(t, logs.String(), "refused the refund e-mail permanently")
	assertNoSecrets(t, logs.String())
	assert.Empty(t, srv.Messages())
}

func TestMissingEmail(t *testing.T) {
	srv := mailertest.Start(t, mailertest.Options{})
	n := notice()
	n.Email = ""

	err := newMailer(t, config(srv)).NotifyCustomer(ctx, n)
	assert.ErrorIs(t, err, mailer.ErrNoEmail, "by default: an error, so the delivery ends up dead where an operator sees it")

	var logs logBuffer
	m := newMailer(t, config(srv, func(c *mailer.Config) { c.SkipMissingEmail = true; c.Logger = logs.logger() }))
	assert.NoError(t, m.NotifyCustomer(ctx, n))
	assert.Contains(t, logs.String(), "no e-mail address; skipped")
	assert.Contains(t, logs.String(), n.ClaimID.String())
	assert.Empty(t, srv.Messages())
}

func TestBadRecipientIsPermanent(t *testing.T) {
	srv := mailertest.Start(t, mailertest.Options{})
	n := notice()
	n.Email = "not an address"
	err := newMailer(t, config(srv)).NotifyCustomer(ctx, n)
	assert.ErrorIs(t, err, mailer.ErrPermanent)
	assert.NotContains(t, err.Error(), "not an address")
}

func TestNoticeWithoutTokenIsRefused(t *testing.T) {
	srv := mailertest.Start(t, mailertest.Options{})
	n := notice()
	n.Token = ""
	err := newMailer(t, config(srv)).NotifyCustomer(ctx, n)
	assert.ErrorContains(t, err, "has no token")
	assert.Empty(t, srv.Messages())
}

func TestLogsNeverHoldTheToken(t *testing.T) {
	srv := mailertest.Start(t, mailertest.Options{})
	var logs logBuffer
	m := newMailer(t, config(srv, func(c *mailer.Config) { c.Logger = logs.logger() }))
	require.NoError(t, m.NotifyCustomer(ctx, notice()))
	assert.Contains(t, logs.String(), "refund e-mail sent")
	assert.Contains(t, logs.String(), "claim_id=00000000-0000-7000-8000-000000000002")
	assertNoSecrets(t, logs.String())
}

func TestConfigValidation(t *testing.T) {
	srv := mailertest.Start(t, mailertest.Options{})
	cases := map[string]func(*mailer.Config){
		"no host":             func(c *mailer.Config) { c.Host = "" },
		"host with port":      func(c *mailer.Config) { c.Host = "smtp.example:25" },
		"bad port":            func(c *mailer.Config) { c.Port = 70000 },
		"no from":             func(c *mailer.Config) { c.From = "" },
		"bad reply-to":        func(c *mailer.Config) { c.ReplyTo = "nope" },
		"no base URL":         func(c *mailer.Config) { c.ClaimBaseURL = "" },
		"http base URL":       func(c *mailer.Config) { c.ClaimBaseURL = "http://pay.shop.example/refund" },
		"base URL with query": func(c *mailer.Config) { c.ClaimBaseURL = "https://pay.shop.example/refund?x=1" },
		"no merchant name":    func(c *mailer.Config) { c.Branding.Name = "" },
		"name with newline":   func(c *mailer.Config) { c.Branding.Name = "Shop\r\nBcc: x@y" },
		"bad colour":          func(c *mailer.Config) { c.Branding.AccentColor = "red;background:url(x)" },
		"bad logo URL":        func(c *mailer.Config) { c.Branding.LogoURL = "javascript:alert(1)" },
		"auth without TLS":    func(c *mailer.Config) { c.Username = "shop" },
		"unknown auth":        func(c *mailer.Config) { c.Security = mailer.StartTLS; c.Username = "u"; c.Auth = "XOAUTH9" },
		"negative timeout":    func(c *mailer.Config) { c.Timeout = -1 },
		"unknown security":    func(c *mailer.Config) { c.Security = 7 },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := mailer.New(config(srv, mutate))
			assert.ErrorContains(t, err, "mailer: config:")
		})
	}
	for _, u := range []string{"https://shop:hunter2@pay.shop.example/refund", "http://shop:hunter2@pay.shop.example/refund"} {
		_, err := mailer.New(config(srv, func(c *mailer.Config) { c.ClaimBaseURL = u }))
		require.ErrorContains(t, err, "mailer: config:")
		assert.NotContains(t, err.Error(), "hunter2", "a password in ClaimBaseURL is not echoed")
	}
	_, err := mailer.New(config(srv, func(c *mailer.Config) { c.Branding.LogoURL = "ftp://shop:hunter2@cdn.example/logo.png" }))
	require.ErrorContains(t, err, "mailer: config:")
	assert.NotContains(t, err.Error(), "hunter2", "a password in LogoURL is not echoed")
	_, err = mailer.New(config(srv, func(c *mailer.Config) { c.ClaimBaseURL = "http://127.0.0.1:8080/refund/" }))
	assert.NoError(t, err, "http on loopback is for development")
}

func TestLinkAndRender(t *testing.T) {
	srv := mailertest.Start(t, mailertest.Options{})
	m := newMailer(t, config(srv, func(c *mailer.Config) { c.ClaimBaseURL = "https://pay.shop.example/refund/" }))
	assert.Equal(t, wantLink, m.Link(testToken), "one slash between base and token")
	r, err := m.Render(notice())
	require.NoError(t, err)
	assert.Contains(t, r.Text, wantLink)
	assert.NotContains(t, r.Subject, "\n")
}

// assertNoSecrets checks that s holds neither the token nor the link nor
// the customer's address.
func assertNoSecrets(t *testing.T, s string) {
	t.Helper()
	assert.NotContains(t, s, testToken)
	assert.NotContains(t, s, strings.TrimPrefix(testToken, "rc2_"))
	assert.NotContains(t, s, "pay.shop.example/refund")
	assert.NotContains(t, s, "customer@example.com")
}

func TestCustomTemplates(t *testing.T) {
	srv := mailertest.Start(t, mailertest.Options{})
	custom := fstest.MapFS{
		"subject.txt": {Data: []byte("Refund {{.Amount}} {{.Currency}}")},
		"body.txt":    {Data: []byte("Claim at {{.Link}}")},
		"body.html":   {Data: []byte(`<p>{{.Merchant}}: <a href="{{.Link}}">claim</a></p>`)},
	}
	m := newMailer(t, config(srv, func(c *mailer.Config) { c.Templates = custom }))
	require.NoError(t, m.NotifyCustomer(ctx, notice()))
	p := parse(t, srv.Messages()[0].Data)
	assert.Equal(t, "Refund 0.001 BTC", p.Subject)
	assert.Equal(t, "Claim at "+wantLink, strings.TrimSpace(p.Text))
	assert.Contains(t, p.HTML, `<a href="`+wantLink+`">claim</a>`)

	for name, fsys := range map[string]fstest.MapFS{
		"missing file":  {"subject.txt": custom["subject.txt"], "body.txt": custom["body.txt"]},
		"syntax error":  {"subject.txt": custom["subject.txt"], "body.txt": {Data: []byte("{{.Link")}, "body.html": custom["body.html"]},
		"unknown field": {"subject.txt": custom["subject.txt"], "body.txt": {Data: []byte("{{.Token}}")}, "body.html": custom["body.html"]},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := mailer.New(config(srv, func(c *mailer.Config) { c.Templates = fsys }))
			assert.ErrorContains(t, err, "mailer:", "a bad template is a configuration error, not a dead delivery")
		})
	}
}
