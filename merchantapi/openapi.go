package merchantapi

import (
	_ "embed"
	"net/http"
	"strconv"
)

//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI returns the OpenAPI 3.1 document describing the API (a copy).
// The handler serves it, without authentication, at <prefix>/openapi.json.
func OpenAPI() []byte { return append([]byte(nil), openAPIDocument...) }

// openAPI serves GET /openapi.json.
func (h *Handler) openAPI(rq *request) (int, any, *apiError) {
	w := rq.w
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Content-Length", strconv.Itoa(len(openAPIDocument)))
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if rq.r.Method != http.MethodHead {
		w.Write(openAPIDocument)
	}
	return 0, nil, nil
}
