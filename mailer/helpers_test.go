package mailer_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/mailer"
	"github.com/cryptoinvoice/invoice/mailer/mailertest"
)

var ctx = context.Background()

const testToken = "rc2_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// config is a mailer configuration for srv with NoTLS; mutate adjusts it.
func config(srv *mailertest.Server, mutate ...func(*mailer.Config)) mailer.Config {
	c := mailer.Config{
		Host:         srv.Host,
		Port:         srv.Port,
		Security:     mailer.NoTLS,
		From:         "Example Shop <refunds@shop.example>",
		ClaimBaseURL: "https://pay.shop.example/refund",
		Branding: mailer.Branding{
			Name:         "Example Shop",
			LogoURL:      "https://shop.example/logo.png",
			AccentColor:  "#0a7d3b",
			SupportEmail: "support@shop.example",
		},
	}
	for _, m := range mutate {
		m(&c)
	}
	return c
}

func newMailer(t *testing.T, c mailer.Config) *mailer.Mailer {
	t.Helper()
	m, err := mailer.New(c)
	require.NoError(t, err)
	return m
}

func notice() *invoice.RefundNotice {
	return &invoice.RefundNotice{
		ClaimID:   uuid.MustParse("00000000-0000-7000-8000-000000000002"),
		InvoiceID: uuid.MustParse("00000000-0000-7000-8000-000000000001"),
		ForeignID: "o-1",
		Email:     "customer@example.com",
		Amount:    decimal.RequireFromString("0.001"),
		Currency:  "BTC",
		Reason:    "Timer expired. User paid less than requested.",
		Token:     testToken,
	}
}

// parsed is a received message taken apart.
type parsed struct {
	Header   mail.Header
	Subject  string
	Text     string
	HTML     string
	RawParts []string // content types of the parts, in order
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	var p parsed
	p.Header = msg.Header
	p.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	require.NoError(t, err)
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/alternative", mt)
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		var body io.Reader = part
		if strings.EqualFold(part.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body = quotedprintable.NewReader(part)
		}
		b, err := io.ReadAll(body)
		require.NoError(t, err)
		ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		p.RawParts = append(p.RawParts, ct)
		switch ct {
		case "text/plain":
			p.Text = string(b)
		case "text/html":
			p.HTML = string(b)
		}
	}
	return p
}

// logBuffer is a slog handler target safe for concurrent writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}
