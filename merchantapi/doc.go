// Package merchantapi serves the merchant HTTP API of the invoice engine,
// compatible with CoinsPaid Invoices v2 clients, plus the back-office
// endpoints a merchant needs. Handler is an http.Handler:
//
//	api, err := merchantapi.New(merchantapi.Config{
//		Engine: engine,
//		Keys:   []merchantapi.Key{{Key: publicKey, Secret: secret}},
//		Clock:  clock, // the engine's
//	})
//	http.Handle("/", api) // serves /api/v2/... and /v2/...
//
// # Endpoints
//
// Under the prefix (Config.Prefix; by default both /api/v2 and /v2):
//
//	POST /invoices/create                                     create (CoinsPaid)
//	POST /invoices/{foreign_id}/cancel  (or .../cancel/)      cancel (CoinsPaid)
//	GET  /invoices/{foreign_id}                               read one invoice
//	GET  /invoices?status=&created_from=&created_before=&cursor=&limit=
//	GET  /callbacks/dead?cursor=&limit=                       dead callbacks
//	POST /callbacks/{id}/redeliver                            redeliver one
//	GET  /refund-claims/awaiting-payout?cursor=&limit=        redeemed, unpaid claims
//	POST /invoices/{foreign_id}/refund-claims/{claim_id}/paid {"payout_ref": "..."}
//	GET  /openapi.json                                        the OpenAPI 3.1 document (no authentication)
//
// Path segments are percent-decoded, so a foreign_id holding "/" is sent as
// %2F. As in OpenAPI, a literal path wins over a template: an invoice whose
// foreign_id is "create" cannot be read with GET /invoices/create (list it,
// or cancel it, instead). A known path with another method gets 405 with Allow; an unknown
// path 404 {"error":"Not found","code":"not_found"}. Times in query
// parameters are unix seconds or RFC 3339; created_from is inclusive,
// created_before exclusive. Listings answer {"data": [...],
// "next_cursor": ...}, next_cursor null on the last page; limit is 1 to
// 1000, default 100.
//
// # Authentication
//
// As CoinsPaid: X-Processing-Key names one of Config.Keys (several may be
// configured at once, for rotation) and X-Processing-Signature is the hex
// HMAC-SHA512 of the exact request body with that key's secret (checked in
// constant time by webhook.VerifyProcessingSignature; for GET requests the
// body, and so the signed text, is empty). Failures answer 403 with
// CoinsPaid's bodies: {"error":"No key header","code":"required_header_key"},
// {"error":"Bad key header","code":"bad_header_key"},
// {"error":"No signature header","code":"required_header_signature"},
// {"error":"Bad signature header","code":"bad_header_signature"}. A body
// that is not JSON, or a Content-Type other than application/json (or a
// +json type; none at all is accepted), answers 400
// {"error":"Bad content format","code":"bad_content_format"}; a body over
// Config.MaxBodyBytes 413. Authentication is checked before the content.
//
// Like CoinsPaid's, the scheme has no timestamp or nonce: a captured
// request can be replayed, and the signature of an empty body (every GET)
// or of {} (every cancel) is the same for every request, so it is as
// secret as the key pair itself. Serve the API over TLS only, to the
// merchant's servers only.
//
// # What requests may hold
//
// What real clients send is accepted: timer as true/false, 0/1 or
// "0"/"1" (and "true"/"false"); amount as a JSON number or a numeric
// string, read exactly from its text (never through a float; an exponent
// of at most two digits); null and "" for any optional field mean absent;
// numbers where strings are expected (foreign_id: 196, as the first
// documentation shows) are taken as their text; name is read when title is
// absent (older clients); type (fill_or_kill, good_until_expired) and
// end_user_reference; unknown fields are ignored; escapes such as \/ (PHP's
// json_encode) are plain JSON. A field of the wrong kind answers a
// validation error naming it; everything else is the engine's validation
// (invoice.CreateRequest).
//
// # Answers
//
// {"data": {...}} with id (the invoice number), url (the customer's
// checkout link, Engine.CheckoutURL), foreign_id, end_user_reference,
// address, tag, title and name (both: client generations read one or the
// other), description, status, error, type, currency, amount and
// sender_amount (decimal strings with at least 8 fraction digits, more when
// the currency has more), sender_currency, fixed_at, release_at (unix
// seconds), seconds_left and created_at. Cancel answers the cancelled
// invoice the same way (CoinsPaid's documentation shows [] there; clients
// read only the status code).
//
// Values that do not exist yet (a type 1 invoice before the customer
// chooses the currency) are null, as the documentation shows, with one
// exception: fixed_at and release_at are left out instead. A widely copied
// Go client decodes them with strconv.ParseInt and fails on null, but
// tolerates a missing key; clients written from the documentation read a
// missing key as null/undefined (JavaScript, PHP's ?? and isset, Python's
// .get, Go pointers), so both decode the same answer.
//
// # Errors of the engine
//
// Every engine error maps to one answer:
//
//	*invoice.ValidationError        400 {"errors": {"<field>": "<message>", ...}} (engine texts, e.g.
//	                                    "The foreign id has already been taken.")
//	*invoice.TransitionError,       400 {"errors": {"error": "Invoice cannot be failed in its current state.",
//	invoice.ErrInvalidState             "code": "invalid_invoice_state"}}
//	invoice.ErrNotFound             404 {"errors": {"error": "Invoice not found.", "code": "invoice_not_found"}}
//	                                    (callback_not_found, refund_claim_not_found for those endpoints)
//	invoice.ErrRefundClaim          400 {"errors": {..., "code": "invalid_refund_claim_state"}}
//	invoice.ErrDuplicate            400 {"errors": {"foreign_id": "The foreign id has already been taken."}}
//	invoice.ErrUnknownValue,
//	invoice.ErrValidation           400 {"errors": {..., "code": "invalid_request"}}
//	invoice.ErrTransaction          400 {"errors": {..., "code": "invalid_transaction"}}
//	invoice.ErrConflict,
//	invoice.ErrLeaseLost            409 {"errors": {..., "code": "conflict"}} (retry)
//	invoice.ErrRate                 503 {"errors": {..., "code": "rate_unavailable"}} (retry; logged)
//	context canceled or expired     503 {"errors": {..., "code": "service_unavailable"}} (logged)
//	anything else (the store)       500 {"errors": {"error": "Internal error.", "code": "internal_error"}} (logged)
//
// No client input leads to a 5xx: those are kept for the engine's and the
// store's own failures.
//
// # Idempotent and concurrent creates
//
// Creates racing with the same foreign_id make one invoice: those with
// the same parameters all get it (200, the same id), the others 400 with
// "The foreign id has already been taken.".
package merchantapi
