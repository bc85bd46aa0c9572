// Package serve is what the example commands share to run: a main that
// stops on SIGINT or SIGTERM, and the serve-until-stopped sequence of an
// HTTP server beside the engine's background work.
package serve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// ShutdownTimeout bounds the graceful shutdown of the server after a stop.
const ShutdownTimeout = 10 * time.Second

// Main calls run with a context that ends on SIGINT or SIGTERM and exits
// the process when run returns an error: the error is printed to stderr
// after name, and the exit status is 2 for a usage error (flag.ErrHelp)
// and 1 for any other. When run returns nil, Main returns.
func Main(name string, run func(ctx context.Context) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// Run serves srv on ln and runs background (the engine's Run: sweeping
// deadlines, delivering callbacks) until ctx ends or the server fails.
//
// When the server fails, Run stops background, waits for it and returns
// the server's error. When ctx ends, Run shuts the server down gracefully
// (within ShutdownTimeout), then stops background and waits for it,
// prints "stopped" to out and returns the shutdown's error joined with
// background's (context.Canceled from background is its normal end and
// not an error).
func Run(ctx context.Context, srv *http.Server, ln net.Listener, background func(context.Context) error, out io.Writer) error {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	backgroundDone := make(chan error, 1)
	go func() { backgroundDone <- background(runCtx) }()
	serveDone := make(chan error, 1)
	go func() { serveDone <- srv.Serve(ln) }()

	select {
	case err := <-serveDone:
		cancel()
		<-backgroundDone
		return err
	case <-ctx.Done():
	}
	shutdownCtx, done := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer done()
	err := srv.Shutdown(shutdownCtx)
	cancel()
	if runErr := <-backgroundDone; runErr != nil && !errors.Is(runErr, context.Canceled) {
		err = errors.Join(err, runErr)
	}
	fmt.Fprintln(out, "stopped")
	return err
}
