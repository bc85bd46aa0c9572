package mailer

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/cryptoinvoice/invoice"
)

// Security is how the connection to the SMTP server is protected.
type Security int

const (
	// StartTLS connects in plain text and upgrades with STARTTLS before
	// anything else; a server that does not offer it is refused. Default
	// port 587.
	StartTLS Security = iota
	// ImplicitTLS speaks TLS from the first byte ("SMTPS"). Default port
	// 465.
	ImplicitTLS
	// NoTLS sends in clear text: only for a relay on the same host or in
	// tests. It cannot be combined with a username (credentials are never
	// sent unencrypted). Default port 25.
	NoTLS
)

// Auth is an SMTP AUTH mechanism.
type Auth string

// Mechanisms Config.Auth accepts.
const (
	AuthPlain       Auth = "PLAIN"         // RFC 4616; the default
	AuthLogin       Auth = "LOGIN"         // the non-standard LOGIN of many providers
	AuthCRAMMD5     Auth = "CRAM-MD5"      // RFC 2195
	AuthSCRAMSHA256 Auth = "SCRAM-SHA-256" // RFC 7677
)

// Branding is how the e-mail presents the merchant.
type Branding struct {
	// Name is the merchant's name, shown in the subject, greeting and
	// footer; required, at most 100 printable characters.
	Name string
	// LogoURL is an absolute https (or http) URL of the logo shown at the
	// top of the HTML part; "" shows the name instead. Mail clients fetch
	// it, so it must be public.
	LogoURL string
	// AccentColor is the colour of the header bar and the button, as
	// "#rgb" or "#rrggbb"; "" = "#1f4fd1".
	AccentColor string
	// ButtonTextColor is the colour of the button's text; "" = "#ffffff".
	ButtonTextColor string
	// SupportEmail is where customers write with questions, shown in the
	// footer and used as Reply-To unless Config.ReplyTo is set; "" shows
	// none.
	SupportEmail string
}

// Config configures a Mailer. Host, From, ClaimBaseURL and Branding.Name
// are required; every other zero value is a documented default.
type Config struct {
	// Host is the SMTP server's host name (also the name its TLS
	// certificate is checked against unless TLSConfig says otherwise).
	Host string
	// Port defaults to 587 (StartTLS), 465 (ImplicitTLS) or 25 (NoTLS).
	Port int
	// Security defaults to StartTLS.
	Security Security
	// TLSConfig, when set, replaces the default (system roots, ServerName
	// Host, TLS 1.2 or newer). It is cloned, never modified.
	TLSConfig *tls.Config
	// Username and Password, when Username is set, authenticate with Auth.
	Username string
	Password string
	// Auth is the mechanism; "" = AuthPlain.
	Auth Auth
	// LocalName is the name sent in EHLO; "" = "localhost".
	LocalName string
	// Timeout bounds one delivery (connect to QUIT); 0 = 30 seconds. The
	// context passed to NotifyCustomer bounds it too.
	Timeout time.Duration

	// From is the sender, e.g. "Example Shop <refunds@shop.example>";
	// required.
	From string
	// ReplyTo, e.g. "support@shop.example"; "" = Branding.SupportEmail,
	// or none.
	ReplyTo string
	// ClaimBaseURL is the absolute URL the claim page is mounted at, e.g.
	// "https://pay.example.com/refund": the link is ClaimBaseURL + "/" +
	// token. Required; must be https unless the host is a loopback one
	// (local development).
	ClaimBaseURL string
	// Branding is the merchant's presentation.
	Branding Branding

	// SkipMissingEmail, when true, makes NotifyCustomer log a notice
	// without an e-mail address at warning level and return nil (the
	// delivery is done; the claim stays open for the host to reach the
	// customer some other way). When false (the default) NotifyCustomer
	// returns ErrNoEmail, so the delivery is retried and finally shows
	// among the outbox's dead records, where an operator sees it.
	SkipMissingEmail bool

	// Templates, when set, replaces the embedded templates: an fs.FS with
	// "subject.txt" and "body.txt" (text/template) and "body.html"
	// (html/template), given the fields of Message. nil = the embedded
	// English templates (see the templates directory).
	Templates fs.FS

	// Clock dates the messages; nil = the system clock.
	Clock invoice.Clock
	// Logger defaults to a logger that discards everything. The mailer
	// logs each sent and failed message with the invoice and claim IDs,
	// never the token, link or recipient.
	Logger *slog.Logger
}

var colorRe = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// withDefaults validates c and returns it with its defaults filled in.
func (c Config) withDefaults() (Config, error) {
	bad := func(format string, a ...any) (Config, error) {
		return c, fmt.Errorf("mailer: config: "+format, a...)
	}
	switch {
	case c.Host == "" || strings.ContainsAny(c.Host, " /:@\r\n"):
		return bad("Host is required: the SMTP server's host name, without a port")
	case c.Port < 0 || c.Port > 65535:
		return bad("Port %d is out of range", c.Port)
	case c.Security < StartTLS || c.Security > NoTLS:
		return bad("unknown Security %d", c.Security)
	case c.Security == NoTLS && c.Username != "":
		return bad("Username with NoTLS: credentials are never sent unencrypted")
	case c.Timeout < 0:
		return bad("Timeout must not be negative")
	}
	switch c.Auth {
	case "":
		c.Auth = AuthPlain
	case AuthPlain, AuthLogin, AuthCRAMMD5, AuthSCRAMSHA256:
	default:
		return bad("unknown Auth %q", c.Auth)
	}
	if c.Port == 0 {
		c.Port = [...]int{StartTLS: 587, ImplicitTLS: 465, NoTLS: 25}[c.Security]
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.LocalName == "" {
		c.LocalName = "localhost"
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		return bad("From %q is not an address: %v", c.From, err)
	}
	if c.ReplyTo == "" {
		c.ReplyTo = c.Branding.SupportEmail
	}
	if c.ReplyTo != "" {
		if _, err := mail.ParseAddress(c.ReplyTo); err != nil {
			return bad("ReplyTo %q is not an address: %v", c.ReplyTo, err)
		}
	}
	if err := checkBaseURL(c.ClaimBaseURL); err != nil {
		return bad("ClaimBaseURL: %v", err)
	}
	c.ClaimBaseURL = strings.TrimRight(c.ClaimBaseURL, "/")
	b := &c.Branding
	if b.Name == "" || len(b.Name) > 100 || strings.ContainsFunc(b.Name, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return bad("Branding.Name is required: at most 100 printable characters")
	}
	if b.LogoURL != "" {
		u, err := url.Parse(b.LogoURL)
		if err != nil {
			return bad("Branding.LogoURL is not a URL")
		}
		if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return bad("Branding.LogoURL %q is not an absolute http(s) URL", u.Redacted())
		}
	}
	if b.AccentColor == "" {
		b.AccentColor = "#1f4fd1"
	}
	if b.ButtonTextColor == "" {
		b.ButtonTextColor = "#ffffff"
	}
	for _, col := range []string{b.AccentColor, b.ButtonTextColor} {
		if !colorRe.MatchString(col) {
			return bad("colour %q is not #rgb or #rrggbb", col)
		}
	}
	if b.SupportEmail != "" {
		if _, err := mail.ParseAddress(b.SupportEmail); err != nil {
			return bad("Branding.SupportEmail %q is not an address: %v", b.SupportEmail, err)
		}
	}
	if c.Clock == nil {
		c.Clock = invoice.SystemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// checkBaseURL accepts an absolute https URL without query or fragment,
// or http on a loopback host.
func checkBaseURL(s string) error {
	if s == "" {
		return errors.New("required")
	}
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	shown := u.Redacted() // never a password in the error
	switch {
	case u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return fmt.Errorf("%q must be an absolute URL without user, query or fragment", shown)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("%q must be https (http only on localhost)", shown)
}

func isLoopback(host string) bool {
	return host == "localhost" || strings.HasPrefix(host, "127.") || host == "::1"
}
