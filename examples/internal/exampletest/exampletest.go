// Package exampletest helps the example commands' tests: a buffer safe for
// concurrent writers, and building a command, starting it and stopping it
// with a signal.
package exampletest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Wait is how long Start waits for the first line and Stop for the exit.
const Wait = 15 * time.Second

// Buffer is a bytes.Buffer safe to write from several goroutines and to
// read while they write.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p to the buffer.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Build compiles the main package of the test's working directory (the
// command under test) to a binary named name in a temporary directory and
// returns its path.
func Build(t testing.TB, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// Process is a command started by Start.
type Process struct {
	cmd    *exec.Cmd
	stdout firstLine
	stderr Buffer
	done   chan error // the result of Wait
}

// Start starts bin with args and returns the process and the first line
// it prints to stdout (without the newline), waiting up to Wait for it.
// The process is killed at the end of the test if it still runs.
func Start(t testing.TB, bin string, args ...string) (*Process, string) {
	t.Helper()
	p := &Process{cmd: exec.Command(bin, args...), done: make(chan error, 1)}
	p.stdout.line = make(chan string, 1)
	p.cmd.Stdout = &p.stdout
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	select {
	case line := <-p.stdout.line:
		return p, line
	case err := <-p.done:
		p.done <- err // for Stop and the cleanup
		t.Fatalf("exited before printing a line: %v; stderr: %s", err, p.stderr.String())
	case <-time.After(Wait):
		t.Fatalf("no line on stdout within %s; stderr: %s", Wait, p.stderr.String())
	}
	return nil, ""
}

// Stderr returns what the process printed to stderr so far.
func (p *Process) Stderr() string { return p.stderr.String() }

// Stop sends sig to the process and fails the test unless it exits with
// status 0 within Wait.
func (p *Process) Stop(t testing.TB, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("exit after %s: %v; stderr: %s", sig, err, p.stderr.String())
		}
	case <-time.After(Wait):
		t.Fatalf("still running %s after %s", Wait, sig)
	}
}

// firstLine keeps what a process prints and hands its first line to line.
type firstLine struct {
	Buffer
	line chan string // receives the first line, once
	sent bool        // guarded by Buffer.mu
}

// Write appends p and sends the first line once it is complete.
func (f *firstLine) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.b.Write(p)
	if !f.sent {
		if head, _, ok := bytes.Cut(f.b.Bytes(), []byte("\n")); ok {
			f.line <- string(head)
			f.sent = true
		}
	}
	return n, err
}
