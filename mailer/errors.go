package mailer

import (
	"errors"
	"fmt"
	"strings"

	mail "github.com/wneessen/go-mail"
)

var (
	// ErrPermanent matches (errors.Is) an error from NotifyCustomer for a
	// message the SMTP server refused permanently (a 5xx reply).
	ErrPermanent = errors.New("mailer: permanent SMTP failure")
	// ErrTemporary matches an error from NotifyCustomer that may pass by
	// itself: a 4xx reply, or a failure to connect, negotiate TLS or
	// finish the conversation.
	ErrTemporary = errors.New("mailer: temporary SMTP failure")
	// ErrNoEmail is returned by NotifyCustomer for a notice without an
	// e-mail address, unless Config.SkipMissingEmail is set.
	ErrNoEmail = errors.New("mailer: refund notice has no e-mail address")
)

// SMTPError is a failure to hand a message to the SMTP server. Its text
// names the stage and the server's reply code, never the message, its
// link or the recipient.
type SMTPError struct {
	// Stage is what failed, e.g. "dial", "RCPT TO", "DATA".
	Stage string
	// Code is the server's reply code (e.g. 450, 550); 0 when the failure
	// was not a reply (network, TLS, timeout).
	Code int
	// EnhancedCode is the RFC 3463 status (e.g. "4.2.0") when the server
	// sent one.
	EnhancedCode string
	// Err is the underlying network, TLS or protocol error for failures
	// before a message was handed over (never go-mail's SendError, which
	// holds the message); nil otherwise.
	Err error
}

// Permanent reports whether the server refused for good (5xx).
func (e *SMTPError) Permanent() bool { return e.Code >= 500 && e.Code < 600 }

// Error names the stage and the reply code (or the network or TLS
// error); never the message, its link or the recipient.
func (e *SMTPError) Error() string {
	var b strings.Builder
	b.WriteString("mailer: SMTP ")
	b.WriteString(e.Stage)
	switch {
	case e.Code != 0:
		fmt.Fprintf(&b, ": reply %d", e.Code)
		if e.EnhancedCode != "" {
			b.WriteString(" " + e.EnhancedCode)
		}
		if e.Permanent() {
			b.WriteString(" (permanent)")
		} else {
			b.WriteString(" (temporary)")
		}
	case e.Err != nil:
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Is makes errors.Is(err, ErrPermanent) and errors.Is(err, ErrTemporary)
// tell the two kinds apart.
func (e *SMTPError) Is(target error) bool {
	switch target {
	case ErrPermanent:
		return e.Permanent()
	case ErrTemporary:
		return !e.Permanent()
	}
	return false
}

// Unwrap returns Err.
func (e *SMTPError) Unwrap() error { return e.Err }

// classify turns what go-mail returned into an *SMTPError that holds
// nothing of the message.
func classify(err error) *SMTPError {
	var se *mail.SendError
	if errors.As(err, &se) {
		// Built from the code and stage only: se.Msg() is the whole message
		// (with the link) and se.Error() names the recipient.
		return &SMTPError{Stage: stageOf(se.Reason), Code: se.ErrorCode(), EnhancedCode: se.EnhancedStatusCode()}
	}
	// Dial, TLS, EHLO or AUTH: go-mail returns the raw network, TLS or
	// protocol error, none of which carries the message.
	out := &SMTPError{Stage: "connect", Err: err}
	if c := replyCode(err); c != 0 {
		out.Code = c
	}
	return out
}

// replyCode is the reply code at the start of a protocol error's text
// ("535 5.7.8 ..."), or 0.
func replyCode(err error) int {
	for e := err; e != nil; e = errors.Unwrap(e) {
		s := e.Error()
		if len(s) >= 4 && (s[0] == '4' || s[0] == '5') && isDigit(s[1]) && isDigit(s[2]) && s[3] == ' ' {
			return int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0')
		}
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func stageOf(r mail.SendErrReason) string {
	switch r {
	case mail.ErrSMTPMailFrom:
		return "MAIL FROM"
	case mail.ErrSMTPRcptTo:
		return "RCPT TO"
	case mail.ErrSMTPData:
		return "DATA"
	case mail.ErrSMTPDataClose:
		return "end of DATA"
	case mail.ErrSMTPReset:
		return "RSET"
	case mail.ErrWriteContent:
		return "writing the message"
	case mail.ErrConnCheck, mail.ErrNoUnencoded:
		return "connection"
	}
	return "send"
}
