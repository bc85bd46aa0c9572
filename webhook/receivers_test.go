package webhook_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/webhook"
)

// Real receivers that verify the signature over their own re-encoding of
// the decoded body: a PHP script checking as CoinsPaid's shop plugins do,
// run by php-cli's built-in server, and a Node.js server using
// JSON.stringify. Each gets callbacks whose strings hold "/", non-ASCII
// letters, emoji, "& < >", quotes and backslashes.

// requireTool returns the path of a program the test needs, or skips the
// test (fails it when CI=true).
func requireTool(t *testing.T, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found (CI=true, so this fails): %s", name, install)
	}
	t.Skipf("%s not found, skipping the real-receiver test: %s (or run .ci/run)", name, install)
	return ""
}

// receiver is a running receiver process.
type receiver struct {
	url string
	log string // the file it appends accepted callbacks to
}

func startPHPReceiver(t *testing.T) receiver {
	t.Helper()
	php := requireTool(t, "php", "apt-get install php-cli")
	script, err := filepath.Abs("testdata/receivers/coinspaid_plugin.php")
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	log := filepath.Join(t.TempDir(), "accepted.log")
	cmd := exec.Command(php, "-n", "-S", addr, script)
	cmd.Env = append(os.Environ(), "CALLBACK_SECRET="+testSecret, "CALLBACK_LOG="+log)
	cmd.Dir = t.TempDir()
	startProcess(t, cmd)
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "php -S did not start on %s", addr)
	return receiver{url: "http://" + addr + "/callbacks", log: log}
}

func startNodeReceiver(t *testing.T) receiver {
	t.Helper()
	node := requireTool(t, "node", "apt-get install nodejs")
	script, err := filepath.Abs("testdata/receivers/stringify_receiver.js")
	require.NoError(t, err)
	log := filepath.Join(t.TempDir(), "accepted.log")
	cmd := exec.Command(node, script)
	cmd.Env = append(os.Environ(), "CALLBACK_SECRET="+testSecret, "CALLBACK_LOG="+log)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	startProcess(t, cmd)
	port := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		port <- strings.TrimSpace(line)
	}()
	select {
	case p := <-port:
		require.NotEmpty(t, p, "node printed no port")
		return receiver{url: "http://127.0.0.1:" + p + "/callbacks", log: log}
	case <-time.After(10 * time.Second):
		t.Fatal("node receiver did not start")
	}
	return receiver{}
}

func startProcess(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s stderr:\n%s", filepath.Base(cmd.Path), stderr.String())
		}
	})
}

// reencodingValues are the foreign_id / title / end_user_reference / txid
// values the receivers must accept.
var reencodingValues = []string{
	"order/2026/11",
	"café é ü ß",
	"emoji 😀 🇪🇺",
	"& < > '",
	`quote " and \ backslash`,
	`all: /é😀&<>"\ ~`,
	"plain-ascii-1",
	"ÿ ü end",
}

// deliverAll runs invoices with the hostile values through the engine to
// the receiver and returns how many callbacks were produced and how many
// the receiver acknowledged.
func deliverAll(t *testing.T, r receiver, form invoice.BodyForm) (produced, acked int, h *invoicetest.Harness) {
	t.Helper()
	sender, err := webhook.NewSender(webhook.SenderConfig{URL: r.url, Key: testKey, Secret: testSecret, BodyForm: form})
	require.NoError(t, err)
	h = invoicetest.New(t, func(c *invoice.Config) { c.Notifier = sender })
	ctx := context.Background()
	for i, v := range reencodingValues {
		id := fmt.Sprintf("%s #%d", v, i)
		title := []rune(v)
		_, err := h.Engine.Create(ctx, invoice.CreateRequest{
			ForeignID: id, Title: string(title[:min(len(title), 50)]), EndUserReference: v,
			Amount: dec("100"), Currency: "EUR", Timer: true, SenderCurrency: "BTC", Email: "c@example.com",
		})
		require.NoError(t, err)
		for conf, st := range []invoice.TxStatus{invoice.TxNotConfirmed, invoice.TxConfirmed} {
			_, err = h.Engine.ReportTransaction(ctx, id, invoice.TransactionReport{TxID: "tx/" + v, Currency: "BTC",
				Amount: dec("0.00166667"), Confirmations: int64(conf), Status: st})
			require.NoError(t, err)
		}
		produced += 2
		// A callback with nulls: an invoice without a payment currency, cancelled.
		_, err = h.Engine.Create(ctx, invoice.CreateRequest{ForeignID: id + " no-currency", Title: "t",
			EndUserReference: v, Amount: dec("5"), Currency: "EUR"})
		require.NoError(t, err)
		_, err = h.Engine.Cancel(ctx, id+" no-currency")
		require.NoError(t, err)
		produced++
	}
	acked, err = h.Engine.DeliverDue(ctx)
	require.NoError(t, err)
	return produced, acked, h
}

func acceptedLines(t *testing.T, r receiver) []string {
	t.Helper()
	b, err := os.ReadFile(r.log)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func TestPHPPluginReceiverAcceptsEveryCallback(t *testing.T) {
	r := startPHPReceiver(t)
	produced, acked, h := deliverAll(t, r, invoice.BodyPHP)
	assert.Equal(t, produced, acked, "every callback acknowledged at the first attempt")
	assert.Len(t, acceptedLines(t, r), produced)
	dead, err := h.Engine.DeadDeliveries(context.Background(), [16]byte{}, 100)
	require.NoError(t, err)
	assert.Empty(t, dead)
}

func TestNodeStringifyReceiverAcceptsEveryCallbackInItsForm(t *testing.T) {
	r := startNodeReceiver(t)
	produced, acked, _ := deliverAll(t, r, invoice.BodyJSONStringify)
	assert.Equal(t, produced, acked, "every callback acknowledged at the first attempt")
	assert.Len(t, acceptedLines(t, r), produced)
}

// The controls: each receiver refuses the other form when a value needs an
// escape the forms disagree on, so the tests above could fail.
func TestReceiversRefuseTheOtherForm(t *testing.T) {
	for name, c := range map[string]struct {
		start func(*testing.T) receiver
		form  invoice.BodyForm
	}{
		"php given JSON.stringify bodies": {startPHPReceiver, invoice.BodyJSONStringify},
		"node given PHP bodies":           {startNodeReceiver, invoice.BodyPHP},
	} {
		t.Run(name, func(t *testing.T) {
			r := c.start(t)
			produced, acked, h := deliverAll(t, r, c.form)
			assert.Less(t, acked, produced, "some callbacks are refused")
			assert.Positive(t, acked, "those with nothing to escape differently are accepted")
			var refused int
			for _, v := range reencodingValues {
				ds, err := h.Engine.Deliveries(context.Background(), fmt.Sprintf("%s #%d", v, indexOf(v)))
				require.NoError(t, err)
				for _, d := range ds {
					for _, a := range d.Attempts {
						if a.StatusCode == 403 {
							refused++
						}
					}
				}
			}
			assert.Positive(t, refused, "refused with 403 bad signature")
		})
	}
}

func indexOf(v string) int {
	for i, s := range reencodingValues {
		if s == v {
			return i
		}
	}
	return -1
}

// TestGoldenCallbacksAreFixedPointsOfPHP runs every pinned callback body
// (the root package's testdata/callbacks) through real PHP:
// json_encode(json_decode(body, true)) gives back the same bytes, so a
// plugin that signs its re-encoding computes the signature of the body.
func TestGoldenCallbacksAreFixedPointsOfPHP(t *testing.T) {
	php := requireTool(t, "php", "apt-get install php-cli")
	files, err := filepath.Glob("../testdata/callbacks/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	args := append([]string{"-n", "-r", `foreach (array_slice($argv, 1) as $f) { $b = file_get_contents($f);
		echo (json_encode(json_decode($b, true)) === $b ? "same " : "DIFF "), basename($f), "\n"; }`, "--"}, files...)
	out, err := exec.Command(php, args...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, lines, len(files))
	for _, l := range lines {
		assert.True(t, strings.HasPrefix(l, "same "), l)
	}
}
