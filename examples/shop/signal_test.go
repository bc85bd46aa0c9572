package main

import (
	"strings"
	"syscall"
	"testing"

	"github.com/cryptoinvoice/invoice/examples/internal/exampletest"
	"github.com/stretchr/testify/require"
)

// TestBinaryExitsZeroOnSignal builds the command and stops it with SIGINT
// and SIGTERM: each time it prints its URLs first and exits with status 0.
func TestBinaryExitsZeroOnSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := exampletest.Build(t, "shop")
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		proc, line := exampletest.Start(t, bin, "-addr", "127.0.0.1:0", "-key", "K", "-secret", "S")
		require.True(t, strings.HasPrefix(line, "demo shop on http://127.0.0.1:"), line)
		proc.Stop(t, sig)
	}
}
