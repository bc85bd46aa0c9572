// Package webhook delivers invoice callbacks over HTTP and verifies them on
// the merchant's side.
//
// # Sending
//
// Sender implements invoice.Notifier. Plug it into the engine's
// configuration; the engine's outbox decides when to call it (at least
// once, in order per invoice, retried along invoice.Config.RetrySchedule,
// dead after the last retry):
//
//	sender, err := webhook.NewSender(webhook.SenderConfig{
//		URL:    "https://shop.example/callbacks/invoices",
//		Key:    merchantPublicKey,
//		Secret: merchantSecret,
//		BlockPrivateNetworks: true, // when merchants choose the URL
//	})
//	cfg.Notifier = sender
//
// Each attempt is a POST of the JSON-encoded invoice.Callback (the
// CoinsPaid invoice callback format) with two independent signatures:
//
//   - CoinsPaid: X-Processing-Key (the public key) and
//     X-Processing-Signature = hex(HMAC-SHA512(secret, exact body)), so an
//     existing CoinsPaid callback handler accepts it unchanged;
//   - Standard Webhooks (https://www.standardwebhooks.com): webhook-id (the
//     delivery's ID, the same on every retry of it), webhook-timestamp
//     (unix seconds) and webhook-signature = "v1," +
//     base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)), one
//     space-separated entry per signing secret so that secrets can be
//     rotated without downtime. A secret "whsec_<base64>" means the
//     decoded bytes; any other secret is used as raw bytes. Without
//     SigningSecrets the CoinsPaid secret signs both.
//
// The reference Standard Webhooks libraries base64-decode every secret
// they are given, so a receiver using one must be given a raw secret (one
// without the whsec_ prefix, such as the CoinsPaid secret) as
// StandardSecret(secret), "whsec_" + base64 of its bytes, or through the
// library's raw-key constructor (Go NewWebhookRaw, JavaScript
// {format: "raw"}, Python bytes, PHP Webhook::fromRaw). Simplest: issue
// whsec_ secrets from the start with NewSigningSecret and configure them
// as SigningSecrets.
//
// The body is in PHP json_encode form by default (SenderConfig.BodyForm,
// invoice.BodyForm): receivers that verify over the raw body accept it,
// and so do CoinsPaid's own PHP plugins, which verify over
// json_encode(json_decode(body, true)). invoice.BodyJSONStringify suits
// receivers that verify over JSON.stringify(JSON.parse(body)) instead. A
// 429 or 503 answer's Retry-After is honoured (StatusError.RetryAfter).
// Errors and logs show the URL without userinfo or query values.
//
// Only a 2xx answer acknowledges a callback. Any other answer, a redirect
// included (redirects are never followed), is a *StatusError whose
// HTTPStatus the engine records on the attempt. Each attempt is bounded by
// SenderConfig.Timeout and reads at most SenderConfig.MaxResponseBytes of
// the answer.
//
// # Receiving callbacks
//
// Mount Handler on the URL you gave the engine. It checks the signatures
// (both schemes by default), rejects stale timestamps (replays), decodes
// the body into typed values and acknowledges the callback only when your
// function returns nil:
//
//	v := &webhook.Verifier{
//		Key:    merchantPublicKey,
//		Secret: merchantSecret,
//	}
//	http.Handle("POST /callbacks/invoices", webhook.Handler(v,
//		func(ctx context.Context, cb *invoice.Callback, meta webhook.Meta) error {
//			// Callbacks arrive at least once, in order per invoice:
//			// dedupe on meta.ID. A manual redelivery can repeat an old
//			// state, so compare with what you stored before acting.
//			switch cb.Status {
//			case invoice.StatusConfirmed:
//				return orders.MarkPaid(ctx, cb.ForeignID, cb.CurrencyReceived.Amount.Decimal, meta.ID)
//			case invoice.StatusFailed:
//				return orders.MarkFailed(ctx, cb.ForeignID, cb.Error, meta.ID)
//			}
//			return nil
//		}))
//
// Without Handler, call Verifier.Verify with the headers and the exact
// body bytes, or VerifyProcessingSignature for the CoinsPaid scheme alone.
// Verification errors match ErrMissingHeaders, ErrMissingSignature,
// ErrBadSignature, ErrBadKey or ErrStaleTimestamp. For tests of your own
// handler, SignForTest produces a body and headers exactly as a Sender
// would.
//
// # Decisions
//
//   - webhook-timestamp is wall-clock time (SenderConfig.Now), not the
//     engine's Clock, because receivers compare it with theirs.
//   - A malformed webhook-timestamp is reported as ErrStaleTimestamp; a
//     malformed signature header as ErrBadSignature.
//   - The CoinsPaid scheme has no timestamp and so no replay protection;
//     require SchemeBoth (the default) or SchemeStandard when you can.
//   - BlockPrivateNetworks checks the address actually dialled (in the
//     dialer's Control function), after DNS resolution, so a name that
//     resolves to a public address when configured and a private one when
//     used is still refused.
package webhook
