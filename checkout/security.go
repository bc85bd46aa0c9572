package checkout

import (
	"net/http"
)

// contentSecurityPolicy allows only the handler's own script, style and
// images (and the inline SVG QR codes, which are markup, not images), no
// framing, no plugins, forms posting only to the page's own origin, and no
// <base> rewriting. No inline script or style is allowed and no nonce is
// needed: the script and style sheet are embedded files served by the
// handler.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// secure wraps a page handler with the protections every customer page
// shares (checkout and refund-claim pages alike):
//
//   - Content-Security-Policy above, X-Frame-Options: DENY (for browsers
//     that predate frame-ancestors), X-Content-Type-Options: nosniff;
//   - Referrer-Policy: no-referrer, since the path carries the customer's
//     token and must not leak to the merchant's url_success, say;
//   - Cross-Origin-Opener-Policy and Cross-Origin-Resource-Policy
//     same-origin, a Permissions-Policy that denies what the pages never
//     use;
//   - Cache-Control: no-store unless the handler sets its own (pages show
//     live state; assets set a public max-age);
//   - http.CrossOriginProtection on every unsafe method: a form posted
//     from another origin (CSRF) gets 403 before it reaches a handler.
func secure(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Cross-origin request refused.", http.StatusForbidden)
	}))
	inner := cop.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
		h.Set("Cache-Control", "no-store")
		inner.ServeHTTP(w, r)
	})
}
