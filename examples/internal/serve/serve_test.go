package serve

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"
)

// A stop through ctx shuts the server down, ends the background work and
// prints "stopped"; context.Canceled from the background is no error.
func TestRunStopsOnContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.NotFoundHandler(), ReadHeaderTimeout: time.Second}
	ctx, cancel := context.WithCancel(t.Context())
	var out bytes.Buffer
	ended := false
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, srv, ln, func(ctx context.Context) error { <-ctx.Done(); ended = true; return ctx.Err() }, &out)
	}()
	res, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if !ended || out.String() != "stopped\n" {
		t.Fatalf("background ended %v, printed %q", ended, out.String())
	}
}

// A failing server ends Run with its error after the background work ends.
func TestRunReturnsServeError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	var out bytes.Buffer
	ended := false
	err = Run(t.Context(), &http.Server{ReadHeaderTimeout: time.Second}, ln,
		func(ctx context.Context) error { <-ctx.Done(); ended = true; return ctx.Err() }, &out)
	if !errors.Is(err, net.ErrClosed) || !ended || out.Len() != 0 {
		t.Fatalf("Run = %v, background ended %v, printed %q", err, ended, out.String())
	}
}

// An error of the background work other than its cancellation is returned.
func TestRunJoinsBackgroundError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err = Run(ctx, &http.Server{ReadHeaderTimeout: time.Second}, ln,
		func(ctx context.Context) error { <-ctx.Done(); return boom }, &bytes.Buffer{})
	if !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want %v", err, boom)
	}
}
