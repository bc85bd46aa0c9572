package invoice_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
)

var update = flag.Bool("update", false, "rewrite the golden callback files in testdata/callbacks")

// callbackKinds produce one callback each (the last one of the scenario),
// pinned byte for byte in testdata/callbacks/<kind>.json (PHP form).
var callbackKinds = []struct {
	name string
	run  func(t *testing.T, h *invoicetest.Harness) string // returns the foreign_id
}{
	{"pending", func(t *testing.T, h *invoicetest.Harness) string {
		create(t, h, invoice.CreateRequest{ForeignID: "order/1 é", Title: "t", Amount: dec("100"), Currency: "EUR",
			EndUserReference: "user <&> \"7\""})
		_, err := h.Engine.ConfirmPayment(ctx, "order/1 é", invoice.Confirmation{Currency: "BTC", Email: "c@example.com"})
		require.NoError(t, err)
		return "order/1 é"
	}},
	{"processing", func(t *testing.T, h *invoicetest.Harness) string {
		create(t, h, typ3("o-2"))
		report(t, h, "o-2", "tx-a", "0.00166667", invoice.TxNotConfirmed)
		return "o-2"
	}},
	{"processing_eth_keeps_window", func(t *testing.T, h *invoicetest.Harness) string {
		req := typ3("o-3")
		req.SenderCurrency = "ETH"
		create(t, h, req)
		reportIn(t, h, "o-3", "0xabc", "ETH", "0.033333333333333334", invoice.TxNotConfirmed)
		return "o-3"
	}},
	{"part_paid", func(t *testing.T, h *invoicetest.Harness) string {
		req := typ3("o-4")
		req.Mode = invoice.ModeGoodUntilExpired
		create(t, h, req)
		report(t, h, "o-4", "part-1", "0.001", invoice.TxNotConfirmed)
		return "o-4"
	}},
	{"confirmed", func(t *testing.T, h *invoicetest.Harness) string {
		create(t, h, typ3("o-5"))
		report(t, h, "o-5", "tx-c", "0.00166667", invoice.TxNotConfirmed)
		report(t, h, "o-5", "tx-c", "0.00166667", invoice.TxConfirmed)
		return "o-5"
	}},
	{"failed_not_paid_no_currency", func(t *testing.T, h *invoicetest.Harness) string {
		create(t, h, invoice.CreateRequest{ForeignID: "o-6", Title: "t", Amount: dec("20"), Currency: "EUR", Timer: true})
		sweepAfter(t, h, 16*time.Minute)
		return "o-6"
	}},
	{"failed_paid_less", func(t *testing.T, h *invoicetest.Harness) string {
		create(t, h, typ3("o-7"))
		report(t, h, "o-7", "tx-u", "0.001", invoice.TxConfirmed)
		return "o-7"
	}},
	{"failed_processing_too_long", func(t *testing.T, h *invoicetest.Harness) string {
		create(t, h, typ3("o-8"))
		report(t, h, "o-8", "tx-s", "0.00166667", invoice.TxNotConfirmed)
		sweepAfter(t, h, 25*time.Hour)
		return "o-8"
	}},
	{"failed_flagged", func(t *testing.T, h *invoicetest.Harness) string {
		create(t, h, typ3("o-9"))
		report(t, h, "o-9", "tx-f", "0.00166667", invoice.TxNotConfirmed)
		_, err := h.Engine.FlagTransaction(ctx, "o-9", "tx-f")
		require.NoError(t, err)
		return "o-9"
	}},
	{"failed_cancelled", func(t *testing.T, h *invoicetest.Harness) string {
		create(t, h, invoice.CreateRequest{ForeignID: "o-10", Title: "t", Amount: dec("20"), Currency: "EUR"})
		_, err := h.Engine.Cancel(ctx, "o-10")
		require.NoError(t, err)
		return "o-10"
	}},
	{"late_payment", func(t *testing.T, h *invoicetest.Harness) string {
		create(t, h, typ3("o-11"))
		sweepAfter(t, h, time.Hour)
		report(t, h, "o-11", "tx-late", "0.00166667", invoice.TxConfirmed)
		return "o-11"
	}},
	{"wrong_currency", func(t *testing.T, h *invoicetest.Harness) string {
		create(t, h, typ3("o-12"))
		reportIn(t, h, "o-12", "ltc-1", "LTC", "1.5", invoice.TxNotConfirmed)
		return "o-12"
	}},
}

func lastCallback(t *testing.T, h *invoicetest.Harness, foreignID string) *invoice.Callback {
	t.Helper()
	_, err := h.Engine.DeliverDue(ctx)
	require.NoError(t, err)
	cbs := h.Merchant.Callbacks(foreignID)
	require.NotEmpty(t, cbs, foreignID)
	return cbs[len(cbs)-1]
}

func TestCallbackGoldenFiles(t *testing.T) {
	schema := loadSchema(t)
	for _, k := range callbackKinds {
		t.Run(k.name, func(t *testing.T) {
			h := invoicetest.New(t)
			cb := lastCallback(t, h, k.run(t, h))
			body, err := cb.Body(invoice.BodyPHP)
			require.NoError(t, err)
			path := filepath.Join("testdata", "callbacks", k.name+".json")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, body, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -run TestCallbackGoldenFiles -update to create it")
			assert.Equal(t, string(want), string(body), "the bytes sent for %s", k.name)
			assert.NoError(t, schema.validate(body), "%s against callback.schema.json", k.name)

			// The JSON.stringify form is the same document.
			js, err := cb.Body(invoice.BodyJSONStringify)
			require.NoError(t, err)
			var a, b any
			require.NoError(t, json.Unmarshal(body, &a))
			require.NoError(t, json.Unmarshal(js, &b))
			assert.Equal(t, a, b)
			assert.NotContains(t, string(js), `\/`)
			// It decodes back to the callback.
			var back invoice.Callback
			require.NoError(t, json.Unmarshal(body, &back))
			again, err := back.Body(invoice.BodyPHP)
			require.NoError(t, err)
			assert.Equal(t, string(body), string(again), "decode then encode is the identity")
		})
	}
}

func TestCallbackNullsAndDeadline(t *testing.T) {
	h := invoicetest.New(t)
	create(t, h, invoice.CreateRequest{ForeignID: "o-1", Title: "t", Amount: dec("20"), Currency: "EUR"})
	_, err := h.Engine.Cancel(ctx, "o-1")
	require.NoError(t, err)
	var m map[string]any
	body, err := lastCallback(t, h, "o-1").Body(invoice.BodyPHP)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(body, &m))
	assert.Nil(t, m["fixed_at"])
	assert.Nil(t, m["expires_at"])
	assert.Equal(t, map[string]any{"currency": nil, "amount": nil, "remaining_amount": nil}, m["currency_sent"])
	addr := m["crypto_address"].(map[string]any)
	assert.Nil(t, addr["currency"])
	assert.Nil(t, addr["address"])
	assert.Nil(t, addr["tag"])
	assert.Equal(t, map[string]any{"currency": "EUR", "amount": "20.00000000"}, m["currency_received"])

	// A tag, when the address has one, is a string.
	h = invoicetest.New(t, func(c *invoice.Config) {
		c.Addresses = invoice.AddressSourceFunc(func(context.Context, *invoice.Invoice, string) (invoice.Address, error) {
			return invoice.Address{Address: "rXRP", Tag: "12345"}, nil
		})
	})
	create(t, h, typ3("o-2"))
	report(t, h, "o-2", "tx", "0.00166667", invoice.TxNotConfirmed)
	cb := lastCallback(t, h, "o-2")
	body, err = cb.Body(invoice.BodyPHP)
	require.NoError(t, err)
	assert.Contains(t, string(body), `"tag":"12345"`)
	// expires_at: the processing window (BTC's mempool is visible).
	assert.Equal(t, invoicetest.Epoch.Add(24*time.Hour).Unix(), cb.ExpiresAt)
}

func TestBodyFormsEscapeAsTheirEncoders(t *testing.T) {
	cb := &invoice.Callback{ID: 1, ForeignID: "a/b é 😀 <&> \" \\ \t\x01 \u2028", Type: "invoice",
		Transactions: []invoice.CallbackTransaction{}, Fees: []invoice.CallbackFee{}, Status: invoice.StatusFailed}
	php, err := cb.Body(invoice.BodyPHP)
	require.NoError(t, err)
	assert.Contains(t, string(php), `"foreign_id":"a\/b \u00e9 \ud83d\ude00 <&> \" \\ \t\u0001 \u2028"`)
	js, err := cb.Body(invoice.BodyJSONStringify)
	require.NoError(t, err)
	assert.Contains(t, string(js), "\"foreign_id\":\"a/b é 😀 <&> \\\" \\\\ \\t\\u0001 \u2028\"")
	for _, b := range [][]byte{php, js} {
		assert.False(t, bytes.HasSuffix(b, []byte("\n")), "no trailing newline")
		assert.True(t, json.Valid(b))
	}
	_, err = cb.Body(invoice.BodyForm(9))
	assert.ErrorIs(t, err, invoice.ErrUnknownValue)
}

// A minimal JSON Schema validator for the keywords callback.schema.json
// uses: type, properties, required, additionalProperties, items, enum,
// pattern, minimum, minLength, $ref to #/$defs.

type schemaNode = map[string]any

type jsonSchema struct{ root schemaNode }

func loadSchema(t *testing.T) *jsonSchema {
	t.Helper()
	b, err := os.ReadFile("callback.schema.json")
	require.NoError(t, err)
	var root schemaNode
	require.NoError(t, json.Unmarshal(b, &root))
	return &jsonSchema{root: root}
}

func (s *jsonSchema) validate(doc []byte) error {
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return err
	}
	return s.check("$", s.root, v)
}

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if strings.ContainsAny(x.String(), ".eE") {
			return "number"
		}
		return "integer"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "?"
}

func (s *jsonSchema) check(path string, n schemaNode, v any) error {
	if ref, ok := n["$ref"].(string); ok {
		name, found := strings.CutPrefix(ref, "#/$defs/")
		def, ok := s.root["$defs"].(map[string]any)[name].(map[string]any)
		if !found || !ok {
			return fmt.Errorf("%s: unknown $ref %s", path, ref)
		}
		return s.check(path, def, v)
	}
	if t, ok := n["type"]; ok {
		var types []string
		switch x := t.(type) {
		case string:
			types = []string{x}
		case []any:
			for _, e := range x {
				types = append(types, e.(string))
			}
		}
		got := jsonType(v)
		if !slices.Contains(types, got) && !(got == "integer" && slices.Contains(types, "number")) {
			return fmt.Errorf("%s: %s is not of type %v", path, got, types)
		}
	}
	if e, ok := n["enum"].([]any); ok && !slices.ContainsFunc(e, func(x any) bool { return fmt.Sprint(x) == fmt.Sprint(v) }) {
		return fmt.Errorf("%s: %v not in %v", path, v, e)
	}
	if str, ok := v.(string); ok {
		if p, ok := n["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
			return fmt.Errorf("%s: %q does not match %s", path, str, p)
		}
		if m, ok := n["minLength"].(float64); ok && len([]rune(str)) < int(m) {
			return fmt.Errorf("%s: shorter than %v", path, m)
		}
	}
	if num, ok := v.(json.Number); ok {
		if m, ok := n["minimum"].(float64); ok {
			if f, _ := num.Float64(); f < m {
				return fmt.Errorf("%s: %v below %v", path, num, m)
			}
		}
	}
	if obj, ok := v.(map[string]any); ok {
		props, _ := n["properties"].(map[string]any)
		for _, r := range asStrings(n["required"]) {
			if _, ok := obj[r]; !ok {
				return fmt.Errorf("%s: missing %q", path, r)
			}
		}
		for k, val := range obj {
			p, ok := props[k].(map[string]any)
			if !ok {
				if n["additionalProperties"] == false {
					return fmt.Errorf("%s: unexpected %q", path, k)
				}
				continue
			}
			if err := s.check(path+"."+k, p, val); err != nil {
				return err
			}
		}
	}
	if arr, ok := v.([]any); ok {
		if items, ok := n["items"].(map[string]any); ok {
			for i, e := range arr {
				if err := s.check(fmt.Sprintf("%s[%d]", path, i), items, e); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func asStrings(v any) []string {
	var out []string
	if a, ok := v.([]any); ok {
		for _, e := range a {
			out = append(out, e.(string))
		}
	}
	return out
}

func TestSchemaValidatorRejects(t *testing.T) {
	s := loadSchema(t)
	good, err := os.ReadFile(filepath.Join("testdata", "callbacks", "confirmed.json"))
	require.NoError(t, err)
	require.NoError(t, s.validate(good))
	for name, mutate := range map[string]func(string) string{
		"amount as number": func(b string) string {
			return strings.Replace(b, `"amount":"100.00000000"`, `"amount":100`, 1)
		},
		"unknown field": func(b string) string { return strings.Replace(b, `{"id"`, `{"extra":1,"id"`, 1) },
		"bad status":    func(b string) string { return strings.Replace(b, `"status":"confirmed"}`, `"status":"paid"}`, 1) },
		"missing error": func(b string) string { return strings.Replace(b, `"error":"",`, ``, 1) },
		"numeric confs": func(b string) string {
			return regexp.MustCompile(`"confirmations":"\d+"`).ReplaceAllString(b, `"confirmations":3`)
		},
		"7 digit amount": func(b string) string { return strings.Replace(b, `"100.00000000"`, `"100.0000000"`, 1) },
	} {
		bad := mutate(string(good))
		require.NotEqual(t, string(good), bad, name)
		assert.Error(t, s.validate([]byte(bad)), name)
	}
}
