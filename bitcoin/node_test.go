package bitcoin

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// The node tests run against a real btcd in regtest, started once for
// the package in a temporary directory on a free loopback port. btcd has
// no wallet: the test holds a key, btcd mines to its address, and the
// test builds and signs its own transactions.

const btcdHowTo = "btcd not found: run `go install github.com/btcsuite/btcd@v0.26.2` (or .ci/run) to run the node tests"

var (
	nodeOnce sync.Once
	theNode  *testNode
	nodeErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if theNode != nil {
		theNode.stop()
	}
	os.Exit(code)
}

// testNode is a running btcd with a miner key.
type testNode struct {
	cmd    *exec.Cmd
	dir    string
	host   string
	rpc    *rpcclient.Client
	node   *RPCNode
	key    *btcec.PrivateKey
	miner  address.Address
	script []byte // the miner's output script

	mu       sync.Mutex
	nextCoin int64 // height of the next unused coinbase
}

// coin is a spendable output of the miner.
type coin struct {
	op    wire.OutPoint
	value int64
}

// btcdPath finds the btcd binary on PATH or in GOBIN / GOPATH/bin.
func btcdPath() string {
	if p, err := exec.LookPath("btcd"); err == nil {
		return p
	}
	var dirs []string
	if b := os.Getenv("GOBIN"); b != "" {
		dirs = append(dirs, b)
	}
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		lines := strings.Split(string(trimNL(out)), "\n")
		if len(lines) == 2 {
			if lines[0] != "" {
				dirs = append(dirs, lines[0])
			}
			for _, p := range filepath.SplitList(lines[1]) {
				dirs = append(dirs, filepath.Join(p, "bin"))
			}
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, "btcd")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// needNode returns the package's btcd, starting it on first use. Without
// btcd the test is skipped, or fails when CI=true.
func needNode(t *testing.T) *testNode {
	t.Helper()
	bin := btcdPath()
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(btcdHowTo)
		}
		t.Skip(btcdHowTo)
	}
	nodeOnce.Do(func() { theNode, nodeErr = startNode(bin) })
	if nodeErr != nil {
		t.Fatalf("start btcd: %v", nodeErr)
	}
	return theNode
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startNode(bin string) (*testNode, error) {
	dir, err := os.MkdirTemp("", "btcd-test-")
	if err != nil {
		return nil, err
	}
	n := &testNode{dir: dir, nextCoin: 1}
	fail := func(err error) (*testNode, error) {
		n.stop()
		return nil, err
	}
	if n.key, err = btcec.NewPrivateKey(); err != nil {
		return fail(err)
	}
	params := Regtest.Params()
	if n.miner, err = address.NewAddressPubKeyHash(address.Hash160(n.key.PubKey().SerializeCompressed()), params); err != nil {
		return fail(err)
	}
	if n.script, err = txscript.PayToAddrScript(n.miner); err != nil {
		return fail(err)
	}
	conf := filepath.Join(dir, "btcd.conf")
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		return fail(err)
	}
	var port int
	for range 5 { // a port taken between freePort and btcd's listen: retry
		if port, err = freePort(); err != nil {
			return fail(err)
		}
		n.host = "127.0.0.1:" + strconv.Itoa(port)
		log, lerr := os.Create(filepath.Join(dir, "btcd.out"))
		if lerr != nil {
			return fail(lerr)
		}
		n.cmd = exec.Command(bin, "--regtest", "--configfile="+conf,
			"--datadir="+filepath.Join(dir, "data"), "--logdir="+filepath.Join(dir, "logs"),
			"--rpcuser=test", "--rpcpass=test", "--rpclisten="+n.host, "--notls",
			"--nolisten", "--nodnsseed", "--miningaddr="+n.miner.EncodeAddress(), "--debuglevel=info")
		n.cmd.Stdout, n.cmd.Stderr = log, log
		if err = n.cmd.Start(); err != nil {
			log.Close()
			return fail(err)
		}
		log.Close()
		if n.node, err = DialRPC(n.host, "test", "test", nil); err != nil {
			return fail(err)
		}
		n.rpc = n.node.Client()
		if err = n.waitReady(); err == nil {
			break
		}
		n.kill()
	}
	if err != nil {
		out, _ := os.ReadFile(filepath.Join(dir, "btcd.out"))
		return fail(fmt.Errorf("btcd did not answer on %s: %v\n%s", n.host, err, out))
	}
	// 101 blocks make the first coinbase spendable; a few more leave
	// coins for every test.
	if _, err := n.rpc.Generate(130); err != nil {
		return fail(fmt.Errorf("generate: %w", err))
	}
	return n, nil
}

func (n *testNode) waitReady() error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err := n.rpc.GetBlockCount()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || n.cmd.ProcessState != nil {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (n *testNode) kill() {
	if n.node != nil {
		n.node.Close()
		n.node = nil
	}
	if n.cmd != nil && n.cmd.Process != nil {
		_ = n.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = n.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = n.cmd.Process.Kill()
			<-done
		}
		n.cmd = nil
	}
}

func (n *testNode) stop() {
	n.kill()
	os.RemoveAll(n.dir)
}

// mine mines k blocks and returns their hashes.
func (n *testNode) mine(t *testing.T, k uint32) []*chainhash.Hash {
	t.Helper()
	hs, err := n.rpc.Generate(k)
	if err != nil {
		t.Fatalf("generate %d: %v", k, err)
	}
	return hs
}

// coin returns the next unused mature coinbase output of the miner.
func (n *testNode) coin(t *testing.T) coin {
	t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	for {
		tip, err := n.rpc.GetBlockCount()
		if err != nil {
			t.Fatal(err)
		}
		if n.nextCoin <= tip-100 { // spendable in the next block, with margin
			break
		}
		n.mine(t, 1)
	}
	h, err := n.rpc.GetBlockHash(n.nextCoin)
	if err != nil {
		t.Fatal(err)
	}
	b, err := n.rpc.GetBlock(h)
	if err != nil {
		t.Fatal(err)
	}
	n.nextCoin++
	cb := b.Transactions[0]
	return coin{op: wire.OutPoint{Hash: cb.TxHash(), Index: 0}, value: cb.TxOut[0].Value}
}

// out is one output of a test payment.
type out struct {
	addr string
	sats int64
}

// rbfSequence signals BIP-125 replaceability.
const rbfSequence = wire.MaxTxInSequenceNum - 2

// spend builds, signs and sends a transaction spending c to outs, paying
// fee and returning the change to the miner. It returns the txid.
func (n *testNode) spend(t *testing.T, c coin, fee int64, outs ...out) chainhash.Hash {
	t.Helper()
	tx, err := n.build(c, fee, outs...)
	if err != nil {
		t.Fatal(err)
	}
	h, err := n.rpc.SendRawTransaction(tx, true)
	if err != nil {
		t.Fatalf("sendrawtransaction: %v", err)
	}
	return *h
}

func (n *testNode) build(c coin, fee int64, outs ...out) (*wire.MsgTx, error) {
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(&wire.TxIn{PreviousOutPoint: c.op, Sequence: rbfSequence})
	change := c.value - fee
	for _, o := range outs {
		a, err := address.DecodeAddress(o.addr, Regtest.Params())
		if err != nil {
			return nil, err
		}
		script, err := txscript.PayToAddrScript(a)
		if err != nil {
			return nil, err
		}
		tx.AddTxOut(wire.NewTxOut(o.sats, script))
		change -= o.sats
	}
	tx.AddTxOut(wire.NewTxOut(change, n.script))
	sig, err := txscript.SignatureScript(tx, 0, n.script, txscript.SigHashAll, n.key, true)
	if err != nil {
		return nil, err
	}
	tx.TxIn[0].SignatureScript = sig
	return tx, nil
}

func TestNodeHarness(t *testing.T) {
	n := needNode(t)
	tip, err := n.rpc.GetBlockCount()
	if err != nil || tip < 130 {
		t.Fatalf("tip %d, %v", tip, err)
	}
	other, _ := btcec.NewPrivateKey()
	a, _ := address.NewAddressWitnessPubKeyHash(address.Hash160(other.PubKey().SerializeCompressed()), Regtest.Params())
	id := n.spend(t, n.coin(t), 10_000, out{a.EncodeAddress(), 1_000_000})
	ids, err := n.node.Mempool(context.Background())
	if err != nil || len(ids) == 0 || ids[0] != id {
		t.Fatalf("mempool %v, %v; want %v", ids, err, id)
	}
	n.mine(t, 1)
}
