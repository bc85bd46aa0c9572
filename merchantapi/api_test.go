package merchantapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/merchantapi"
	"github.com/cryptoinvoice/invoice/webhook"
)

func decimalOf(s string) decimal.Decimal { return decimal.RequireFromString(s) }

const type1 = `{"timer":false,"title":"Invoice Title","currency":"EUR","amount":106.75,"foreign_id":"%s",` +
	`"url_success":"http://success.test","url_failed":"http://failed.test","email_user":"email@address.com"}`

const type3 = `{"timer":true,"title":"Invoice Title","currency":"EUR","sender_currency":"BTC","amount":"106.75",` +
	`"foreign_id":"%s","email_user":"email@address.com"}`

// The published test vector (SPEC §7 and CoinsPaid's authorisation page):
// the handler accepts a request signed with it.
func TestPublishedSignatureVector(t *testing.T) {
	const (
		secret = "AbCdEfG123456"
		body   = `{"currency":"BTC","foreign_id":"123456"}`
		want   = "03c25fcf7cd35e7d995e402cd5d51edd72d48e1471e865907967809a0c189ba55b90815f20e2bb10f82c7a9e9d865546fda58989c2ae9e8e2ff7bc29195fa1ec"
	)
	if got := webhook.ProcessingSignature(secret, []byte(body)); got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
	h := invoicetest.New(t)
	api, err := merchantapi.New(merchantapi.Config{Engine: h.Engine, Keys: []merchantapi.Key{{Key: "k", Secret: secret}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range []string{want, strings.ToUpper(want)} {
		req, _ := http.NewRequest(http.MethodPost, "/api/v2/invoices/create", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Processing-Key", "k")
		req.Header.Set("X-Processing-Signature", sig)
		w := newRecorder()
		api.ServeHTTP(w, req)
		// Authenticated: the answer is the validation of the (incomplete) body.
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"timer":"The timer field is required."`) {
			t.Errorf("signed with the published vector: %d %s", w.Code, w.Body)
		}
	}
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	body := fmt.Sprintf(type1, "auth-1")
	cases := []struct {
		name   string
		opts   []reqOption
		status int
		want   string
	}{
		{"no key", []reqOption{header("X-Processing-Key", "")}, 403, `{"error":"No key header","code":"required_header_key"}`},
		{"unknown key", []reqOption{header("X-Processing-Key", "nope")}, 403, `{"error":"Bad key header","code":"bad_header_key"}`},
		{"no signature", []reqOption{header("X-Processing-Signature", "")}, 403, `{"error":"No signature header","code":"required_header_signature"}`},
		{"bad signature", []reqOption{header("X-Processing-Signature", strings.Repeat("ab", 64))}, 403, `{"error":"Bad signature header","code":"bad_header_signature"}`},
		{"not hex", []reqOption{header("X-Processing-Signature", "zz")}, 403, `{"error":"Bad signature header","code":"bad_header_signature"}`},
		{"other key's secret", []reqOption{func(r *http.Request) { sign(r, testKey2, testSecret, []byte(body)) }}, 403,
			`{"error":"Bad signature header","code":"bad_header_signature"}`},
		{"other body's signature", []reqOption{func(r *http.Request) { sign(r, testKey, testSecret, []byte(body+" ")) }}, 403,
			`{"error":"Bad signature header","code":"bad_header_signature"}`},
		{"form content type", []reqOption{header("Content-Type", "application/x-www-form-urlencoded")}, 400,
			`{"error":"Bad content format","code":"bad_content_format"}`},
		{"second key (rotation)", []reqOption{func(r *http.Request) { sign(r, testKey2, testSecret2, []byte(body)) }}, 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			expect(t, e.create(body, c.opts...), c.status, c.want)
		})
	}
	e.t = t
	for _, bad := range []string{`{"timer":`, `[1,2]`, `null`, `"x"`, `{"a":1} {"b":2}`, "\xff"} {
		expect(t, e.create(bad), 400, `{"error":"Bad content format","code":"bad_content_format"}`)
	}
	// Missing Content-Type is read as JSON; a charset is fine.
	expect(t, e.create(fmt.Sprintf(type1, "auth-2"), header("Content-Type", "")), 200, "")
	expect(t, e.create(fmt.Sprintf(type1, "auth-3"), header("Content-Type", "application/json; charset=utf-8")), 200, "")
	// Over the body limit.
	big := `{"title":"` + strings.Repeat("x", merchantapi.DefaultMaxBodyBytes) + `"}`
	expect(t, e.create(big), 413, `{"error":"Request body too large","code":"request_too_large"}`)
}

func TestRoutes(t *testing.T) {
	e := newEnv(t)
	e.mustCreate(fmt.Sprintf(type1, "a/b c"))
	e.mustCreate(fmt.Sprintf(type1, "r-1"))

	// 405 with Allow, in the same shape.
	r := e.do(http.MethodPut, "/api/v2/invoices/create", "")
	expect(t, r, 405, `{"error":"Method not allowed","code":"method_not_allowed"}`)
	if got := r.header.Get("Allow"); got != "POST" {
		t.Errorf("Allow %q", got)
	}
	r = e.do(http.MethodGet, "/api/v2/invoices/r-1/cancel", "")
	expect(t, r, 405, "")
	if got := r.header.Get("Allow"); got != "POST" {
		t.Errorf("Allow %q", got)
	}
	r = e.do(http.MethodPost, "/api/v2/invoices", "{}")
	if r.status != 405 || r.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /invoices: %d Allow %q", r.status, r.header.Get("Allow"))
	}
	// Unknown paths: 404 in the same shape, unauthenticated or not.
	for _, p := range []string{"/", "/api/v2", "/api/v2/", "/api/v3/invoices/create", "/api/v2/nothing",
		"/api/v2/invoices//cancel", "/api/v2/invoices/r-1/cancel/x", "/api/v2x/invoices/create"} {
		expect(t, e.do(http.MethodPost, p, "{}"), 404, `{"error":"Not found","code":"not_found"}`)
	}
	// /v2 works too, and a percent-encoded slash is part of a foreign_id.
	r = e.do(http.MethodGet, "/v2/invoices/a%2Fb%20c", "")
	expect(t, r, 200, "")
	if got := r.data(t)["foreign_id"]; got != "a/b c" {
		t.Errorf("foreign_id %v", got)
	}
	// The OpenAPI document is served without authentication.
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v2/openapi.json", nil)
	r = e.send(req, nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"openapi": "3.1.0"`) {
		t.Errorf("openapi.json: %d", r.status)
	}
	// /invoices/create is never read as a foreign_id, as OpenAPI matches paths.
	expect(t, e.do(http.MethodGet, "/api/v2/invoices/create", ""), 405, "")
}

func TestCancel(t *testing.T) {
	forEachStore(t, func(t *testing.T, st storeKind) {
		e := newEnv(t, withStore(st.open(t)))
		for i, path := range []string{"/api/v2/invoices/c-%d/cancel/", "/api/v2/invoices/c-%d/cancel", "/v2/invoices/c-%d/cancel/"} {
			e.mustCreate(fmt.Sprintf(type1, fmt.Sprint("c-", i)))
			body := "{}"
			if i == 1 {
				body = "" // no body at all
			}
			r := e.do(http.MethodPost, fmt.Sprintf(path, i), body, validRequest)
			expect(t, r, 200, "")
			d := r.data(t)
			if d["status"] != "failed" || d["error"] != invoice.ReasonCancelled {
				t.Errorf("cancelled: %v", d)
			}
			// Cancelling again: CoinsPaid's business error, exactly.
			expect(t, e.do(http.MethodPost, fmt.Sprintf(path, i), "{}"), 400,
				`{"errors":{"error":"Invoice cannot be failed in its current state.","code":"invalid_invoice_state"}}`)
		}
		expect(t, e.do(http.MethodPost, "/api/v2/invoices/none/cancel/", "{}"), 404,
			`{"errors":{"error":"Invoice not found.","code":"invoice_not_found"}}`)
		expect(t, e.do(http.MethodPost, "/api/v2/invoices/c-0/cancel/", "{"), 400,
			`{"error":"Bad content format","code":"bad_content_format"}`)
	})
}

func TestValidationErrors(t *testing.T) {
	forEachStore(t, func(t *testing.T, st storeKind) {
		e := newEnv(t, withStore(st.open(t)))
		e.mustCreate(fmt.Sprintf(type1, "v-1"))
		cases := []struct{ body, want string }{
			// CoinsPaid's documented texts.
			{fmt.Sprintf(strings.Replace(type1, "Invoice Title", "Other", 1), "v-1"),
				`{"errors":{"foreign_id":"The foreign id has already been taken."}}`},
			{`{"timer":false,"title":"T","currency":"EUR","amount":"9.99","foreign_id":"v-2"}`,
				`{"errors":{"amount":"The amount is too small. The minimum amount is 10.00 EUR."}}`},
			{`{"timer":false,"currency":"EUR","amount":"10","foreign_id":"v-3","sender_currency":"BTC","email_user":"x"}`,
				`{"errors":{"title":"The title field is required.","sender_currency":"The sender currency field is prohibited when timer is false.",` +
					`"email_user":"The email user must be a valid email address."}}`},
			// Field kinds the handler refuses before the engine.
			{`{"timer":"yes","title":"T","currency":"EUR","amount":"10","foreign_id":"v-4"}`, `{"errors":{"timer":"The timer field must be true or false."}}`},
			{`{"title":"T","currency":"EUR","amount":"10","foreign_id":"v-4"}`, `{"errors":{"timer":"The timer field is required."}}`},
			{`{"timer":1,"title":"T","currency":"EUR","amount":"ten","foreign_id":"v-4"}`, `{"errors":{"amount":"The amount must be a number."}}`},
			{`{"timer":1,"title":"T","currency":"EUR","amount":1e999999,"foreign_id":"v-4"}`, `{"errors":{"amount":"The amount must be a number."}}`},
			{`{"timer":1,"title":"T","currency":"EUR","foreign_id":"v-4"}`, `{"errors":{"amount":"The amount field is required."}}`},
			{`{"timer":1,"title":{"a":1},"currency":"EUR","amount":10,"foreign_id":true}`,
				`{"errors":{"title":"The title must be a string.","foreign_id":"The foreign id must be a string."}}`},
			{`{"timer":1,"title":"T","currency":"EUR","amount":10,"foreign_id":"v-4","type":"sometimes"}`, `{"errors":{"type":"The selected type is invalid."}}`},
		}
		for _, c := range cases {
			expect(t, e.create(c.body), 400, c.want)
		}
	})
}

// What real clients send is accepted, and amounts are read exactly.
func TestLenientInput(t *testing.T) {
	forEachStore(t, func(t *testing.T, st storeKind) {
		e := newEnv(t, withStore(st.open(t)))
		timers := map[string]bool{`true`: true, `false`: false, `1`: true, `0`: false, `"1"`: true, `"0"`: false}
		n := 0
		for text, timer := range timers {
			n++
			d := e.mustCreate(fmt.Sprintf(`{"timer":%s,"title":"T","currency":"EUR","amount":"10","foreign_id":"t-%d"}`, text, n))
			if _, fixed := d["fixed_at"]; fixed != timer {
				t.Errorf("timer %s: fixed_at present %v", text, fixed)
			}
		}
		for i, c := range []struct{ amount, want string }{
			{`106.75`, "106.75000000"}, {`"106.75"`, "106.75000000"}, {`" 12 "`, "12.00000000"},
			{`1.2e2`, "120.00000000"}, {`12345678901234567.89`, "12345678901234567.89000000"},
			{`"99999999999999999.99"`, "99999999999999999.99000000"},
		} {
			d := e.mustCreate(fmt.Sprintf(`{"timer":false,"title":"T","currency":"EUR","amount":%s,"foreign_id":"a-%d"}`, c.amount, i))
			if d["amount"] != c.want {
				t.Errorf("amount %s: %v, want %s", c.amount, d["amount"], c.want)
			}
		}
		// null and "" as absent, \/ as PHP sends it, unknown fields, numbers as text, name for title.
		d := e.mustCreate(`{"timer":"0","name":"Old \/ client","currency":"EUR","amount":"10","foreign_id":196,` +
			`"sender_currency":null,"url_success":"https:\/\/shop.example\/ok","url_failed":"","email_user":"",` +
			`"description":null,"type":"","end_user_reference":12345,"sender_type":"natural","sender_data":{"first_name":"F"}}`)
		if d["foreign_id"] != "196" || d["title"] != "Old / client" || d["name"] != "Old / client" || d["end_user_reference"] != "12345" {
			t.Errorf("answer %v", d)
		}
		inv, err := e.h.Engine.Get(context.Background(), "196")
		if err != nil {
			t.Fatal(err)
		}
		if inv.URLSuccess != "https://shop.example/ok" || inv.URLFailed != "" || inv.Email != "" || inv.Type != invoice.TypeNoTimer {
			t.Errorf("stored %+v", inv)
		}
		d = e.mustCreate(`{"timer":true,"title":"Parts","currency":"EUR","amount":10,"foreign_id":"gue","type":"good_until_expired"}`)
		if d["type"] != "good_until_expired" {
			t.Errorf("type %v", d["type"])
		}
	})
}

func TestReadAndList(t *testing.T) {
	forEachStore(t, func(t *testing.T, st storeKind) {
		e := newEnv(t, withStore(st.open(t)))
		start := e.h.Clock.Now()
		for i := range 5 {
			e.mustCreate(fmt.Sprintf(type1, fmt.Sprint("l-", i)))
			e.h.Clock.Advance(time.Minute)
		}
		e.mustCreate(fmt.Sprintf(type3, "l-5")) // pending: the e-mail is known
		r := e.do(http.MethodGet, "/api/v2/invoices/l-5", "", validRequest)
		expect(t, r, 200, "")
		if d := r.data(t); d["status"] != "pending" || d["address"] != "BTC-l-5" || d["sender_amount"] != "0.00177917" {
			t.Errorf("read: %v", d)
		}
		expect(t, e.do(http.MethodGet, "/api/v2/invoices/nope", ""), 404, `{"errors":{"error":"Invoice not found.","code":"invoice_not_found"}}`)

		ids := func(r *resp) []string {
			var out []string
			for _, v := range r.json(t)["data"].([]any) {
				out = append(out, v.(map[string]any)["foreign_id"].(string))
			}
			return out
		}
		list := func(q string) *resp {
			r := e.do(http.MethodGet, "/api/v2/invoices"+q, "", validRequest)
			expect(t, r, 200, "")
			return r
		}
		if got := ids(list("")); strings.Join(got, ",") != "l-0,l-1,l-2,l-3,l-4,l-5" {
			t.Errorf("all: %v", got)
		}
		if got := ids(list("?status=pending")); strings.Join(got, ",") != "l-5" {
			t.Errorf("pending: %v", got)
		}
		from := start.Add(time.Minute)
		q := fmt.Sprintf("?created_from=%d&created_before=%s", from.Unix(), url.QueryEscape(from.Add(3*time.Minute).Format(time.RFC3339)))
		if got := ids(list(q)); strings.Join(got, ",") != "l-1,l-2,l-3" {
			t.Errorf("range: %v", got)
		}
		// Paging by 2.
		var paged []string
		cursor := ""
		for pages := 0; pages < 10; pages++ {
			r := list("?limit=2" + cursor)
			paged = append(paged, ids(r)...)
			next, _ := r.json(t)["next_cursor"].(string)
			if next == "" {
				break
			}
			cursor = "&cursor=" + next
		}
		if strings.Join(paged, ",") != "l-0,l-1,l-2,l-3,l-4,l-5" {
			t.Errorf("paged: %v", paged)
		}
		expect(t, e.do(http.MethodGet, "/api/v2/invoices?status=paid&limit=0&cursor=x&created_from=yesterday", ""), 400,
			`{"errors":{"status":"The selected status is invalid.","limit":"The limit must be between 1 and 1000.",`+
				`"cursor":"The cursor is invalid.","created_from":"The created from is not a valid date."}}`)
	})
}

func TestDeadCallbacksAndRedelivery(t *testing.T) {
	forEachStore(t, func(t *testing.T, st storeKind) {
		e := newEnv(t, withStore(st.open(t)), func(c *invoice.Config, _ *merchantapi.Config) {
			c.RetrySchedule = []time.Duration{time.Minute}
		})
		ctx := context.Background()
		e.mustCreate(fmt.Sprintf(type3, "d-1"))
		e.h.Merchant.FailNext(2) // the callback of the cancel, and its one retry
		expect(t, e.do(http.MethodPost, "/api/v2/invoices/d-1/cancel/", "{}"), 200, "")
		for range 2 {
			if _, err := e.h.Engine.DeliverDue(ctx); err != nil {
				t.Fatal(err)
			}
			e.h.Clock.Advance(2 * time.Minute)
		}
		r := e.do(http.MethodGet, "/api/v2/callbacks/dead", "", validRequest)
		expect(t, r, 200, "")
		dead := r.json(t)["data"].([]any)
		if len(dead) != 1 {
			t.Fatalf("dead: %s", r.body)
		}
		d := dead[0].(map[string]any)
		if d["foreign_id"] != "d-1" || d["status"] != "failed" || d["attempts"] != float64(2) || d["channel"] != "merchant" {
			t.Errorf("dead callback %v", d)
		}
		if r.json(t)["next_cursor"] != nil {
			t.Errorf("next_cursor on the only page")
		}
		id := d["id"].(string)
		r = e.do(http.MethodPost, "/api/v2/callbacks/"+id+"/redeliver", "{}", validRequest)
		expect(t, r, 200, fmt.Sprintf(`{"data":{"id":%q,"state":"pending"}}`, id))
		if n, err := e.h.Engine.DeliverDue(ctx); err != nil || n != 1 {
			t.Errorf("redelivered: %d %v", n, err)
		}
		expect(t, e.do(http.MethodGet, "/api/v2/callbacks/dead", ""), 200, `{"data":[],"next_cursor":null}`)
		expect(t, e.do(http.MethodPost, "/api/v2/callbacks/00000000-0000-7000-8000-00000000ffff/redeliver", ""), 404,
			`{"errors":{"error":"Callback not found.","code":"callback_not_found"}}`)
		expect(t, e.do(http.MethodPost, "/api/v2/callbacks/not-a-uuid/redeliver", ""), 404,
			`{"errors":{"error":"Callback not found.","code":"callback_not_found"}}`)
		expect(t, e.do(http.MethodGet, "/api/v2/callbacks/dead?cursor=nope", ""), 400, `{"errors":{"cursor":"The cursor is invalid."}}`)
	})
}

// Identical creates racing make one invoice and all get it; creates with
// other parameters for the same foreign_id are refused.
func TestRacingCreates(t *testing.T) {
	forEachStore(t, func(t *testing.T, st storeKind) {
		e := newEnv(t, withStore(st.open(t)))
		const n = 16
		var wg sync.WaitGroup
		results := make([]*resp, 2*n)
		start := make(chan struct{})
		for i := range 2 * n {
			body := fmt.Sprintf(type3, "race")
			if i%2 == 1 {
				body = strings.Replace(body, "Invoice Title", fmt.Sprint("Other ", i), 1)
			}
			wg.Go(func() {
				<-start
				results[i] = e.create(body)
			})
		}
		close(start)
		wg.Wait()
		ids := map[any]bool{}
		var evenOK, oddOK int
		for i, r := range results {
			switch r.status {
			case 200:
				ids[r.data(t)["id"]] = true
				if i%2 == 0 {
					evenOK++
				} else {
					oddOK++
				}
			case 400:
				expect(t, r, 400, `{"errors":{"foreign_id":"The foreign id has already been taken."}}`)
			default:
				t.Errorf("create %d: %d %s", i, r.status, r.body)
			}
		}
		// Either the identical creates won (all of them get the invoice) or
		// one of the others did (and every other create is refused).
		if len(ids) != 1 || !(evenOK == n && oddOK == 0 || evenOK == 0 && oddOK == 1) {
			t.Errorf("identical %d, others %d succeeded; invoices %v", evenOK, oddOK, ids)
		}
		page, err := e.h.Engine.List(context.Background(), invoice.ListOptions{})
		if err != nil || len(page.Invoices) != 1 {
			t.Errorf("stored: %d %v", len(page.Invoices), err)
		}
	})
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func TestConfig(t *testing.T) {
	h := invoicetest.New(t)
	for _, c := range []merchantapi.Config{
		{},
		{Engine: h.Engine},
		{Engine: h.Engine, Keys: []merchantapi.Key{{Key: "k"}}},
		{Engine: h.Engine, Keys: []merchantapi.Key{{Key: "k", Secret: "s"}, {Key: "k", Secret: "t"}}},
		{Engine: h.Engine, Keys: []merchantapi.Key{{Key: "k", Secret: "s"}}, Prefix: "api"},
		{Engine: h.Engine, Keys: []merchantapi.Key{{Key: "k", Secret: "s"}}, MaxBodyBytes: -1},
	} {
		if _, err := merchantapi.New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
	api, err := merchantapi.New(merchantapi.Config{Engine: h.Engine, Keys: []merchantapi.Key{{Key: "k", Secret: "s"}}, Prefix: "/shop/api/"})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{"/shop/api/invoices/x": 403, "/api/v2/invoices/x": 404} {
		req, _ := http.NewRequest(http.MethodGet, path, nil)
		w := newRecorder()
		api.ServeHTTP(w, req)
		if w.Code != want {
			t.Errorf("%s: %d, want %d", path, w.Code, want)
		}
	}
}
