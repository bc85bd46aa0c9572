package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cryptoinvoice/invoice/webhook"
)

// The program starts, prints its base URL, serves a signed create there,
// and exits 0 on SIGINT and on SIGTERM.
func TestStartsServesAndStops(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "merchant-api")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, sig := range []os.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-key", "KEY", "-secret", "SECRET")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr syncBuffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			lines := bufio.NewScanner(stdout)
			if !lines.Scan() {
				t.Fatalf("no output; stderr: %s", stderr.String())
			}
			base := regexp.MustCompile(`http://\S+/api/v2`).FindString(lines.Text())
			if base == "" {
				t.Fatalf("no base URL in %q", lines.Text())
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
			if strings.Contains(stderr.String(), "SECRET") {
				t.Error("the secret was logged")
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			go io.Copy(io.Discard, stdout)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("exit after %s: %v; stderr: %s", sig, err, stderr.String())
				}
			case <-time.After(15 * time.Second):
				t.Fatalf("still running 15 s after %s", sig)
			}
		})
	}
}

// syncBuffer is a strings.Builder safe to read while the process writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestFlags(t *testing.T) {
	var out, errOut strings.Builder
	if err := run(t.Context(), []string{"-addr", "127.0.0.1:0"}, &out, &errOut); err == nil {
		t.Error("ran without -key and -secret")
	}
}
