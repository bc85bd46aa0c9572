// Package checkout serves the customer's side of an invoice: the page
// behind the invoice's checkout link (Engine.CheckoutURL), where the
// customer chooses a payment currency, gives an e-mail address, sees what
// to pay where, and watches the payment arrive.
//
// Mount a Handler where the engine's Config.CheckoutBaseURL points:
//
//	h, err := checkout.New(checkout.Config{Engine: engine, MerchantName: "Demo Shop", Clock: clock})
//	mux.Handle("/i/", http.StripPrefix("/i", h))
//
// # What the page shows
//
// The page is rendered by the server (html/template) from the stored
// invoice and the configured clock, so it is complete without JavaScript:
//
//   - title, description and amount of the invoice, the merchant's name and
//     logo (served by the handler: the page makes no external request);
//   - the countdown to the end of the payment window, computed by the
//     server as seconds_left (the client's clock is never trusted), with
//     the deadline in UTC; the script only animates it;
//   - types 1 and 2 (no currency fixed yet): the accepted currencies, with
//     the quotes fixed at creation (type 2) or an indicative amount at the
//     current rate (type 1, Engine.IndicativeQuote; the rate is fixed when
//     the customer continues), and an e-mail field when the merchant gave
//     none; the form posts to the page, which calls Engine.ConfirmPayment;
//   - the payment details: the exact amount still due, the address, the tag
//     or memo when there is one, the network named prominently (Network),
//     the standard payment URI (BIP-21 for Bitcoin-like coins, EIP-681 for
//     ether and ERC-20 tokens, whose contract is configured per currency)
//     as an inline SVG QR code and a wallet link, and copy buttons;
//   - installments paid so far and still due, each transaction's state;
//   - processing (seen, waiting for confirmations), confirmed with the way
//     back to url_success, failed with the reason and the way to url_failed,
//     expired (the window passed, before the sweep fails the invoice), and
//     every refund claim and late or wrong-currency payment explained.
//
// A type-1 page asks the engine's RateSource once per accepted currency
// for every rendering (each view, each changed status): give the engine a
// caching source (package rates' Cache) when rates come from the network.
//
// A payment URI carries no tag or memo in a way every wallet reads, so an
// address with a tag gets no QR code: the customer copies the fields.
//
// # Live status
//
// The page's script polls GET {token}/status (JSON: status, phase,
// seconds_left, amounts, status_text and html, the live section rendered
// by the same template as the page) every Config.PollInterval. The
// response's ETag names the invoice version, the phase and the language,
// so an unchanged invoice answers 304 without rendering. The status
// sentence is in a persistent aria-live region, the countdown announces
// the last minutes in another. Without JavaScript, a <noscript> refresh
// reloads the page every Config.NoScriptRefresh while a payment is awaited
// (never while a form is shown).
//
// # Pieces shared with the refund-claim page and the customer e-mail
//
// The refund-claim page (files claim*.go of this package) and the refund
// e-mail (its own package) reuse these pieces; keep them generic:
//
//   - Layout: templates/layout.html defines "layout" (head with the style
//     sheet and the script, the merchant header, the language links, the
//     footer) and calls the page's "content". A page is one file in
//     templates/ defining "content", parsed with the layout and
//     templates/partials/*.html by parsePages; its data is a *pageData
//     (language, title, relative root, assets) with the page's own view in
//     Content, rendered by Handler.render into a buffer first. Partials:
//     "copy" (a copy-to-clipboard button:
//     {{template "copy" (copyArgs . VALUE LABEL)}}).
//     errorPage renders a translated error page with any status.
//   - CSS and script: static/checkout.css styles every customer page
//     (cards, forms, buttons, warnings; light and dark); static/checkout.js
//     binds copy buttons anywhere and runs the countdown and polling only
//     where #timer and #live exist. Both are served under assets/ with a
//     content hash in the query.
//   - Security: secure wraps every handler with the strict
//     Content-Security-Policy (no inline script or style, no nonce),
//     frame-ancestors 'none' and X-Frame-Options DENY, Referrer-Policy
//     no-referrer (tokens are in URLs), nosniff, no-store, and
//     http.CrossOriginProtection for every form. Tokens are never logged:
//     log through Handler.logError, which takes no request path.
//   - Messages: package checkout/i18n loads catalogs from embedded JSON
//     files (locales/en.json, locales/de.json here) and matches
//     Accept-Language or a "lang" query parameter; a test checks that every
//     catalog has every key and every key used exists. Add the claim page's
//     and the e-mail's keys to the same files (DefaultCatalogs loads them
//     for the mail package), or give the mail package its own catalogs with
//     i18n.Load. Engine reason texts translate through the "reason.*" keys
//     (reasonText).
//   - Rate limiting: limiter is a per-client token bucket on the injected
//     clock, bounded in memory; the handler keeps one per purpose (here:
//     confirmations, unknown-token look-ups; the claim page adds its own).
//     Config.ClientIP names the client behind a proxy.
//   - Browser tests: browser_test.go starts one headless Chromium for the
//     package on first use (browserTab gives each test a tab, with or
//     without JavaScript), skips with a how-to when Chromium is missing and
//     fails instead under CI=true; shot saves screenshots under
//     testdata/screenshots/, qrFromPage decodes a page's QR code from a
//     screenshot (gozxing).
//
// # Routes
//
// Inside the mount point: GET /{token} (page), POST /{token}
// (confirmation: 303 back to the page, 422 with the refused fields marked),
// GET /{token}/status (JSON), GET /assets/{name}, and the refund-claim
// page at GET and POST /refund/{token} (see ClaimPath). Every unknown or
// malformed token gets the same 404 page and costs a token of the client's
// rate-limit bucket; client errors get 4xx answers, never 5xx; a failing
// store or rate source gets 503 with Retry-After.
package checkout
