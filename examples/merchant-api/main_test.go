package main

import (
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/cryptoinvoice/invoice/examples/internal/exampletest"
	"github.com/cryptoinvoice/invoice/webhook"
)

// The program starts, prints its base URL, serves a signed create there,
// and exits 0 on SIGINT and on SIGTERM.
func TestStartsServesAndStops(t *testing.T) {
	bin := exampletest.Build(t, "merchant-api")
	for _, sig := range []os.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			proc, line := exampletest.Start(t, bin, "-addr", "127.0.0.1:0", "-key", "KEY", "-secret", "SECRET")
			base := regexp.MustCompile(`http://\S+/api/v2`).FindString(line)
			if base == "" {
				t.Fatalf("no base URL in %q", line)
			}
			body := `{"timer":true,"title":"Sandbox","currency":"EUR","sender_currency":"BTC","amount":"25.50","foreign_id":"sandbox-1"}`
			req, _ := http.NewRequest(http.MethodPost, base+"/invoices/create", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Processing-Key", "KEY")
			req.Header.Set("X-Processing-Signature", webhook.ProcessingSignature("SECRET", []byte(body)))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			answer, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || !strings.Contains(string(answer), `"address":"test-btc-sandbox-1"`) {
				t.Fatalf("create: %d %s", res.StatusCode, answer)
			}
			if strings.Contains(proc.Stderr(), "SECRET") {
				t.Error("the secret was logged")
			}
			proc.Stop(t, sig)
		})
	}
}

func TestFlags(t *testing.T) {
	var out, errOut strings.Builder
	if err := run(t.Context(), []string{"-addr", "127.0.0.1:0"}, &out, &errOut); err == nil {
		t.Error("ran without -key and -secret")
	}
}
