package checkout

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"strconv"
)

//go:embed static templates
var siteFS embed.FS

//go:embed locales
var localesFS embed.FS

// asset is one embedded file served under assets/.
type asset struct {
	body        []byte
	contentType string
	version     string // first 12 hex digits of its SHA-256
}

// assetURLs are the assets' relative URLs from a page directly under the
// handler's root, with a version query that changes with the content.
type assetURLs struct {
	CSS, JS, Logo string
}

func loadAssets(logo []byte, logoType string) (map[string]asset, assetURLs) {
	mk := func(b []byte, ct string) asset {
		sum := sha256.Sum256(b)
		return asset{body: b, contentType: ct, version: hex.EncodeToString(sum[:6])}
	}
	css, _ := siteFS.ReadFile("static/checkout.css")
	js, _ := siteFS.ReadFile("static/checkout.js")
	m := map[string]asset{
		"checkout.css": mk(css, "text/css; charset=utf-8"),
		"checkout.js":  mk(js, "text/javascript; charset=utf-8"),
	}
	urls := assetURLs{
		CSS: "assets/checkout.css?v=" + m["checkout.css"].version,
		JS:  "assets/checkout.js?v=" + m["checkout.js"].version,
	}
	if len(logo) > 0 {
		m["logo"] = mk(logo, logoType)
		urls.Logo = "assets/logo?v=" + m["logo"].version
	}
	return m, urls
}

func (h *Handler) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	a, ok := h.assets[name]
	if !ok {
		h.notFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.methodNotAllowed(w, r, "GET, HEAD")
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", a.contentType)
	hd.Set("Cache-Control", "public, max-age=86400")
	hd.Set("ETag", `"`+a.version+`"`)
	if name == "logo" {
		// An SVG logo opened on its own must not run anything.
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	}
	if r.Header.Get("If-None-Match") == `"`+a.version+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Length", strconv.Itoa(len(a.body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(a.body)
}
