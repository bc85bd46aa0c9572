package checkout

// The browser-test harness, shared by every real-browser test of this
// package (the refund-claim page's tests too):
//
//   - one headless Chromium for the whole package, started on first use and
//     stopped by TestMain; each test gets its own tab (browserTab), with
//     JavaScript on or off;
//   - without Chromium the tests skip with a one-line how-to, unless
//     CI=true, when they fail;
//   - shot saves a full-page screenshot under testdata/screenshots/ (or
//     $CHECKOUT_SCREENSHOTS), qrFromPage decodes the QR code of a page from a
//     screenshot of its element.

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

var browser struct {
	once sync.Once
	ctx  context.Context
	stop context.CancelFunc
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if browser.stop != nil {
		browser.stop()
	}
	if browser.dir != "" {
		_ = os.RemoveAll(browser.dir)
	}
	os.Exit(code)
}

// chromiumPath finds the browser: $CHROMIUM, else Debian's chromium.
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		if p, err := exec.LookPath(p); err == nil {
			return p
		}
		return ""
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func startBrowser(path string) {
	dir, err := os.MkdirTemp("", "checkout-chromium-")
	if err != nil {
		browser.err = err
		return
	}
	browser.dir = dir
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(412, 915), // a phone
	}
	alloc, stopAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, stopBrowser := chromedp.NewContext(alloc)
	browser.ctx = ctx
	browser.stop = func() { stopBrowser(); stopAlloc() }
	// The first Run starts the browser; it lives as long as ctx.
	browser.err = chromedp.Do(ctx)
}

// browserTab opens a tab of the shared browser for one test, closed when
// the test ends. Every action on it must finish within 45 seconds. Pages
// answered with one of the expected HTTP statuses (a form refused with 422
// or 409 on purpose) are not counted as failed requests.
func browserTab(t *testing.T, javascript bool, expected ...int) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("browser test: Chromium not found (CI=true requires it; .ci/run installs it)")
		}
		t.Skip("browser test skipped: install Chromium (apt-get install chromium) or set CHROMIUM=/path/to/chrome")
	}
	browser.once.Do(func() { startBrowser(path) })
	require.NoError(t, browser.err, "start Chromium")
	tab, closeTab := chromedp.NewContext(browser.ctx)
	t.Cleanup(closeTab)
	require.NoError(t, chromedp.Do(tab), "open a tab")
	// Every console error (a Content-Security-Policy violation, a failed
	// request, a script exception) fails the test.
	var mu sync.Mutex
	var problems []string
	require.NoError(t, chromedp.Listen(tab, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *cdplog.EventEntryAdded:
			if e.Entry != nil && (e.Entry.Level == cdplog.EntryLevelError || e.Entry.Level == cdplog.EntryLevelWarning) &&
				!expectedStatus(e.Entry.Text, expected) {
				problems = append(problems, string(e.Entry.Level)+": "+e.Entry.Text+" "+e.Entry.URL)
			}
		case *cdpruntime.EventExceptionThrown:
			if e.ExceptionDetails != nil {
				problems = append(problems, "exception: "+e.ExceptionDetails.Text)
			}
		}
	}))
	require.NoError(t, chromedp.Do(tab, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cdplog.Enable, cdp.Empty{})
		return err
	})))
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if len(problems) > 0 {
			t.Errorf("browser console: %q", problems)
		}
	})
	if !javascript {
		require.NoError(t, chromedp.Do(tab, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		})))
	}
	ctx, cancel := context.WithTimeout(tab, 45*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// expectedStatus reports whether a console entry is Chromium's report of a
// page answered with one of the expected statuses.
func expectedStatus(text string, expected []int) bool {
	for _, code := range expected {
		if strings.Contains(text, fmt.Sprintf("the server responded with a status of %d ", code)) {
			return true
		}
	}
	return false
}

// shot saves a full-page screenshot as testdata/screenshots/<name>.png.
func shot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	b, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	dir := os.Getenv("CHECKOUT_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("testdata", "screenshots")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644))
}

// testingT is what the page helpers need: a *testing.T, or the
// *assert.CollectT of require.EventuallyWithT for checks that retry.
type testingT interface {
	require.TestingT
}

func helper(t testingT) {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
}

// qrFromPage screenshots the page's QR code element and decodes it.
func qrFromPage(t testingT, tab context.Context) string {
	helper(t)
	b, err := chromedp.Run(tab, chromedp.Screenshot(chromedp.CSS("#qr svg")))
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	return decodeQRImage(t, img)
}

// text returns the text of the first element matching a CSS selector.
func text(t testingT, tab context.Context, sel string) string {
	helper(t)
	s, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(t, err, "text of %s", sel)
	return s
}

// waitPhase waits until the page shows phase (live update or reload).
func waitPhase(t *testing.T, tab context.Context, phase string) {
	t.Helper()
	require.NoError(t, chromedp.Do(tab, chromedp.WaitVisible(chromedp.CSS(`#live[data-phase="`+phase+`"]`))), "phase %s", phase)
}
