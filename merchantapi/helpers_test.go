package merchantapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/memstore"
	"github.com/cryptoinvoice/invoice/merchantapi"
	"github.com/cryptoinvoice/invoice/pgstore"
	"github.com/cryptoinvoice/invoice/webhook"
)

// The test key pairs: two at once, as during a rotation.
const (
	testKey     = "public-key-1"
	testSecret  = "secret-1"
	testKey2    = "public-key-2"
	testSecret2 = "secret-2"
	checkoutURL = "https://pay.example.com/i"
)

// storeKind names a store the suite runs on.
type storeKind struct {
	name string
	open func(tb testing.TB) invoice.Store
}

// stores returns memstore and, when PostgreSQL answers, pgstore in a fresh
// schema (see pgStore).
func stores() []storeKind {
	return []storeKind{
		{"memstore", func(testing.TB) invoice.Store { return memstore.New() }},
		{"pgstore", pgStore},
	}
}

// forEachStore runs fn on every store.
func forEachStore(t *testing.T, fn func(t *testing.T, st storeKind)) {
	for _, st := range stores() {
		t.Run(st.name, func(t *testing.T) { fn(t, st) })
	}
}

// env is a Handler on a test engine, served on a loopback port, with the
// OpenAPI document to validate every exchange against.
type env struct {
	t      testing.TB
	h      *invoicetest.Harness
	api    *merchantapi.Handler
	srv    *httptest.Server
	client *http.Client
	router routers.Router
}

type envOption func(*invoice.Config, *merchantapi.Config)

func withStore(s invoice.Store) envOption {
	return func(c *invoice.Config, _ *merchantapi.Config) { c.Store = s }
}

func newEnv(tb testing.TB, opts ...envOption) *env {
	tb.Helper()
	var acfg merchantapi.Config
	h := invoicetest.New(tb, func(c *invoice.Config) {
		c.CheckoutBaseURL = checkoutURL
		c.Currencies = append(invoice.DefaultCurrencies()[:0:0], invoice.DefaultCurrencies()...)
		c.Currencies[0].MinAmount = decimalOf("10.00") // EUR
		for _, o := range opts {
			o(c, &acfg)
		}
	})
	acfg.Engine = h.Engine
	acfg.Keys = []merchantapi.Key{{Key: testKey, Secret: testSecret}, {Key: testKey2, Secret: testSecret2}}
	acfg.Clock = h.Clock
	api, err := merchantapi.New(acfg)
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(api)
	tb.Cleanup(srv.Close)
	e := &env{t: tb, h: h, api: api, srv: srv, client: srv.Client()}
	e.router = newRouter(tb, srv.URL)
	return e
}

var (
	docOnce sync.Once
	docErr  error
)

// newRouter loads the served OpenAPI document, checks it is valid and
// routes requests to base+"/api/v2" and base+"/v2" with it.
func newRouter(tb testing.TB, base string) routers.Router {
	tb.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(merchantapi.OpenAPI())
	if err != nil {
		tb.Fatalf("load OpenAPI document: %v", err)
	}
	docOnce.Do(func() { docErr = doc.Validate(context.Background()) })
	if docErr != nil {
		tb.Fatalf("OpenAPI document is invalid: %v", docErr)
	}
	doc.Servers = openapi3.Servers{{URL: base + "/api/v2"}, {URL: base + "/v2"}}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		tb.Fatalf("OpenAPI router: %v", err)
	}
	return r
}

// resp is an answer read whole.
type resp struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic value.
func (r *resp) json(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		tb.Fatalf("answer %d is not a JSON object: %v: %s", r.status, err, r.body)
	}
	return m
}

// data returns the "data" object of the body.
func (r *resp) data(tb testing.TB) map[string]any {
	tb.Helper()
	d, ok := r.json(tb)["data"].(map[string]any)
	if !ok {
		tb.Fatalf("answer %d has no data object: %s", r.status, r.body)
	}
	return d
}

// reqOption changes a request before it is sent (after signing).
type reqOption func(*http.Request)

func header(k, v string) reqOption { return func(r *http.Request) { r.Header.Set(k, v) } }

// validRequest marks a request the OpenAPI document must accept.
var validRequest reqOption = func(r *http.Request) { r.Header.Set("X-Test-Valid-Request", "1") }

// sign sets the two CoinsPaid headers for body.
func sign(r *http.Request, key, secret string, body []byte) {
	r.Header.Set(webhook.HeaderProcessingKey, key)
	r.Header.Set(webhook.HeaderProcessingSignature, webhook.ProcessingSignature(secret, body))
}

// do sends a signed request to the loopback server and validates the
// answer against the OpenAPI document (and the request too when it is
// marked validRequest).
func (e *env) do(method, path, body string, opts ...reqOption) *resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	sign(req, testKey, testSecret, []byte(body))
	for _, o := range opts {
		o(req)
	}
	return e.send(req, []byte(body))
}

func (e *env) send(req *http.Request, body []byte) *resp {
	e.t.Helper()
	checkRequest := req.Header.Get("X-Test-Valid-Request") != ""
	req.Header.Del("X-Test-Valid-Request")
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := &resp{status: res.StatusCode, header: res.Header, body: b}
	e.validate(req, body, r, checkRequest)
	return r
}

// validate checks an exchange against the OpenAPI document: the answer
// always (for every path the document describes), the request when asked.
func (e *env) validate(req *http.Request, body []byte, r *resp, checkRequest bool) {
	e.t.Helper()
	vreq := req.Clone(context.Background())
	vreq.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := e.router.FindRoute(vreq)
	if err != nil {
		if r.status != http.StatusNotFound && r.status != http.StatusMethodNotAllowed {
			e.t.Errorf("%s %s: no route in the OpenAPI document (%v), answered %d", req.Method, req.URL.Path, err, r.status)
		}
		return
	}
	opts := &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true,
		MultiError:            true,
	}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: opts}
	if checkRequest {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			e.t.Errorf("%s %s: request does not match the OpenAPI document: %v\n%s", req.Method, req.URL.Path, err, body)
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 r.status,
		Header:                 r.header,
		Body:                   io.NopCloser(bytes.NewReader(r.body)),
		Options:                opts,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		e.t.Errorf("%s %s: answer %d does not match the OpenAPI document: %v\n%s", req.Method, req.URL.Path, r.status, err, r.body)
	}
}

// create posts a create request and returns the answer.
func (e *env) create(body string, opts ...reqOption) *resp {
	e.t.Helper()
	return e.do(http.MethodPost, "/api/v2/invoices/create", body, opts...)
}

// mustCreate creates an invoice and fails the test unless it answers 200.
func (e *env) mustCreate(body string) map[string]any {
	e.t.Helper()
	r := e.create(body, validRequest)
	if r.status != http.StatusOK {
		e.t.Fatalf("create: %d %s", r.status, r.body)
	}
	return r.data(e.t)
}

// expect fails the test unless the answer has the status and exactly the
// JSON body want.
func expect(tb testing.TB, r *resp, status int, want string) {
	tb.Helper()
	if r.status != status {
		tb.Errorf("status %d, want %d: %s", r.status, status, r.body)
	}
	if want == "" {
		return
	}
	var got, exp any
	if err := json.Unmarshal(r.body, &got); err != nil {
		tb.Fatalf("answer is not JSON: %v: %s", err, r.body)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		tb.Fatalf("bad expectation %s: %v", want, err)
	}
	gb, _ := json.Marshal(got)
	eb, _ := json.Marshal(exp)
	if !bytes.Equal(gb, eb) {
		tb.Errorf("body\n got %s\nwant %s", gb, eb)
	}
}

// The pgstore helper: the database of pgstore's tests, one fresh schema per
// store, dropped at the end of the test.

func databaseURL() string {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

var (
	poolOnce sync.Once
	pool     *pgxpool.Pool
	poolErr  error
)

// pgStore returns a migrated pgstore in a fresh schema, or skips the test
// (fails it with CI=true) when PostgreSQL does not answer.
func pgStore(tb testing.TB) invoice.Store {
	tb.Helper()
	poolOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cfg, err := pgxpool.ParseConfig(databaseURL())
		if err != nil {
			poolErr = err
			return
		}
		cfg.MaxConns = 16
		if pool, poolErr = pgxpool.NewWithConfig(ctx, cfg); poolErr == nil {
			if poolErr = pool.Ping(ctx); poolErr != nil {
				pool.Close()
			}
		}
	})
	if poolErr != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("merchantapi: PostgreSQL at %s is not reachable (CI=true, so this fails): %v", databaseURL(), poolErr)
		}
		tb.Skipf("merchantapi: PostgreSQL at %s is not reachable, skipping the pgstore run: %v "+
			"(start PostgreSQL or set DATABASE_URL; CI=true makes this a failure)", databaseURL(), poolErr)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "merchantapi_test_" + hex.EncodeToString(b[:])
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	s, err := pgstore.New(pool, pgstore.WithSchema(schema))
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return s
}

// TestMain closes the shared pool.
func TestMain(m *testing.M) {
	code := m.Run()
	if pool != nil {
		pool.Close()
	}
	os.Exit(code)
}
