// Package mailertest runs a real SMTP server (github.com/emersion/go-smtp)
// inside a test process on a loopback port, for tests of package mailer
// and of pages that follow the link an e-mail carries. It records every
// accepted message, can require STARTTLS or implicit TLS with a fresh
// self-signed certificate and AUTH PLAIN, and can refuse the next
// messages with a chosen reply.
package mailertest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mode is how the server protects connections.
type Mode int

const (
	Plain       Mode = iota // no TLS offered
	StartTLS                // STARTTLS offered (the client must use it for AUTH)
	ImplicitTLS             // TLS from the first byte
)

// Options configures a Server.
type Options struct {
	Mode Mode
	// Username and Password, when Username is set, make the server
	// require AUTH PLAIN with exactly these before MAIL FROM.
	Username, Password string
}

// Message is one accepted message.
type Message struct {
	From string   // envelope sender
	To   []string // envelope recipients
	Data []byte   // the message as received (RFC 5322, CRLF line ends)
	Auth string   // the user it authenticated as, or ""
	TLS  bool     // whether the connection was encrypted
}

// Refusal is a reply the server gives instead of accepting.
type Refusal struct {
	Code         int    // e.g. 451 or 550
	EnhancedCode [3]int // e.g. {4, 3, 0}
	Message      string // the reply text
}

// Server is a running in-process SMTP server.
type Server struct {
	Host string // "127.0.0.1"
	Port int
	// RootCAs trusts the server's self-signed certificate (TLS modes).
	RootCAs *x509.CertPool

	opts     Options
	srv      *smtp.Server
	mu       sync.Mutex
	msgs     []Message
	refusals []Refusal
	arrived  chan struct{}
}

// Start starts a server on a free loopback port and stops it when the
// test ends.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s, err := Listen(opts)
	if err != nil {
		tb.Fatalf("mailertest: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Listen starts a server on a free loopback port; Close stops it.
func Listen(opts Options) (*Server, error) {
	s := &Server{Host: "127.0.0.1", opts: opts, arrived: make(chan struct{}, 1024)}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, tlsOn := c.TLSConnectionState()
		return &session{s: s, tls: tlsOn}, nil
	}))
	srv.Domain = "mailertest.localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.ErrorLog = discardLogger{}
	var tc *tls.Config
	if opts.Mode != Plain {
		var err error
		if tc, s.RootCAs, err = selfSigned(); err != nil {
			return nil, err
		}
		srv.TLSConfig = tc
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	if opts.Mode == ImplicitTLS {
		ln = tls.NewListener(ln, tc)
	}
	s.Port = ln.Addr().(*net.TCPAddr).Port
	s.srv = srv
	go func() { _ = srv.Serve(ln) }()
	return s, nil
}

// Close stops the server.
func (s *Server) Close() { _ = s.srv.Close() }

// ClientTLS is a client TLS configuration that trusts the server.
func (s *Server) ClientTLS() *tls.Config {
	return &tls.Config{RootCAs: s.RootCAs, ServerName: s.Host, MinVersion: tls.VersionTLS12}
}

// Refuse makes the server answer the next len(r) messages' RCPT TO with
// these replies, in order, instead of accepting.
func (s *Server) Refuse(r ...Refusal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusals = append(s.refusals, r...)
}

// Messages returns the accepted messages so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Wait waits until at least n messages were accepted, or ctx ends.
func (s *Server) Wait(ctx context.Context, n int) ([]Message, error) {
	for {
		if m := s.Messages(); len(m) >= n {
			return m, nil
		}
		select {
		case <-s.arrived:
		case <-ctx.Done():
			return s.Messages(), ctx.Err()
		}
	}
}

type session struct {
	s    *Server
	tls  bool
	user string
	from string
	to   []string
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.s.opts.Username || password != ss.s.opts.Password || (identity != "" && identity != username) {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.Username != "" && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if len(ss.s.refusals) > 0 {
		r := ss.s.refusals[0]
		ss.s.refusals = ss.s.refusals[1:]
		return &smtp.SMTPError{Code: r.Code, EnhancedCode: smtp.EnhancedCode(r.EnhancedCode), Message: r.Message}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	var b bytes.Buffer
	if _, err := io.Copy(&b, r); err != nil {
		return err
	}
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, Message{From: ss.from, To: ss.to, Data: b.Bytes(), Auth: ss.user, TLS: ss.tls})
	ss.s.mu.Unlock()
	select {
	case ss.s.arrived <- struct{}{}:
	default:
	}
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

// selfSigned makes a certificate for 127.0.0.1 and localhost valid for a
// day, and a pool that trusts it.
func selfSigned() (*tls.Config, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mailertest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}, MinVersion: tls.VersionTLS12}, pool, nil
}
