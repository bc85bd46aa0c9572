// Package mailer sends refund-claim e-mails: an invoice.CustomerNotifier
// that tells the customer, over SMTP, that a refund is waiting and gives
// the link to the claim page (Config.ClaimBaseURL + "/" + token).
//
// The message has a plain-text and an HTML part, rendered from embedded
// templates (or the host's, see Config.Templates) with the merchant's
// branding. It is built and sent with github.com/wneessen/go-mail over
// implicit TLS, STARTTLS (the default, mandatory) or, for a local relay
// only, no TLS; with SMTP AUTH when a username is configured.
//
// # Failures and retries
//
// NotifyCustomer returns an error for every message the server did not
// accept, so the engine's outbox retries it on Config.RetrySchedule. A
// permanent refusal (an SMTP 5xx reply) is retried the same way (an
// operator may fix the address or the relay in the meantime) but is
// logged at error level and matches ErrPermanent with errors.Is; a
// temporary one (4xx, a network or TLS failure) matches ErrTemporary.
//
// # Secrets
//
// The claim token is in the message body only: it is never logged, and
// the returned errors carry the SMTP stage and reply code, never the
// message, the link or the token (they do not wrap go-mail's SendError,
// which holds the whole message).
package mailer
