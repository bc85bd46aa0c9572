package pgstore_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgBinDir holds the PostgreSQL server binaries the cluster tests use.
const pgBinDir = "/usr/lib/postgresql/15/bin"

// cluster is a primary and a streaming standby of PostgreSQL, each a
// temporary cluster of its own (own directory, own loopback port), run as
// the postgres user when the test runs as root. It never touches the
// machine's own clusters.
type cluster struct {
	t                    *testing.T
	dir                  string
	primary, standby     string // data directories
	primaryPort, stbPort int
	sync                 bool
}

// newCluster initialises and starts a primary and a standby streaming
// from it; with sync the standby is synchronous (synchronous_commit = on
// waits for its flush), otherwise asynchronous. Both are stopped and
// removed when the test ends.
func newCluster(t *testing.T, sync bool) *cluster {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pgBinDir, "pg_basebackup")); err != nil {
		clusterUnavailable(t, err)
	}
	dir, err := os.MkdirTemp("", "pgstore-failover-")
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, dir: dir, primary: filepath.Join(dir, "primary"), standby: filepath.Join(dir, "standby"),
		primaryPort: freePort(t), stbPort: freePort(t), sync: sync}
	t.Cleanup(c.remove)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chown", "postgres:postgres", dir).CombinedOutput(); err != nil {
			t.Fatalf("chown %s: %v: %s", dir, err, out)
		}
	}
	c.pg("initdb", "-D", c.primary, "-U", "postgres", "--auth=trust", "--no-sync", "--no-instructions")
	syncNames := ""
	if sync {
		syncNames = "standby1"
	}
	c.appendConf(c.primary, fmt.Sprintf(`listen_addresses = '127.0.0.1'
port = %d
unix_socket_directories = '%s'
wal_level = replica
max_wal_senders = 4
synchronous_standby_names = '%s'
synchronous_commit = on
fsync = off
full_page_writes = off
shared_buffers = 32MB
log_min_messages = warning
`, c.primaryPort, dir, syncNames))
	c.pg("pg_ctl", "-D", c.primary, "-l", filepath.Join(dir, "primary.log"), "-w", "-t", "30", "start")
	c.pg("pg_basebackup", "-d", fmt.Sprintf("host=127.0.0.1 port=%d user=postgres application_name=standby1", c.primaryPort),
		"-D", c.standby, "-R", "-X", "stream", "-c", "fast", "--no-sync")
	// Once promoted, the standby is a primary with no standby of its own:
	// it must not wait for one (a failover manager such as Patroni makes
	// the same change when the last synchronous standby is gone).
	c.appendConf(c.standby, fmt.Sprintf("port = %d\nsynchronous_standby_names = ''\n", c.stbPort))
	c.pg("pg_ctl", "-D", c.standby, "-l", filepath.Join(dir, "standby.log"), "-w", "-t", "30", "start")
	c.waitReplication()
	return c
}

func clusterUnavailable(t *testing.T, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("pgstore: PostgreSQL 15 server binaries in %s are needed (CI=true, so this fails): %v", pgBinDir, err)
	}
	t.Skipf("pgstore: PostgreSQL 15 server binaries not found in %s (%v); install postgresql-15 to run the failover tests, "+
		"set CI=true to make this a failure", pgBinDir, err)
}

// pg runs a PostgreSQL binary as the postgres user and fails the test on
// error.
func (c *cluster) pg(bin string, args ...string) {
	c.t.Helper()
	if out, err := c.pgCmd(bin, args...).CombinedOutput(); err != nil {
		c.t.Fatalf("%s %s: %v\n%s%s", bin, strings.Join(args, " "), err, out, c.logs())
	}
}

func (c *cluster) pgCmd(bin string, args ...string) *exec.Cmd {
	path := filepath.Join(pgBinDir, bin)
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

func (c *cluster) appendConf(dataDir, conf string) {
	c.t.Helper()
	f, err := os.OpenFile(filepath.Join(dataDir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString("\n" + conf)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		c.t.Fatal(err)
	}
}

// logs returns the tails of the server logs, for failure messages.
func (c *cluster) logs() string {
	var b strings.Builder
	for _, name := range []string{"primary.log", "standby.log"} {
		data, err := os.ReadFile(filepath.Join(c.dir, name))
		if err != nil {
			continue
		}
		if len(data) > 2000 {
			data = data[len(data)-2000:]
		}
		fmt.Fprintf(&b, "--- %s (tail)\n%s\n", name, data)
	}
	return b.String()
}

// waitReplication waits until the primary reports the standby streaming
// in the expected mode.
func (c *cluster) waitReplication() {
	c.t.Helper()
	want := "async"
	if c.sync {
		want = "sync"
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := pgx.Connect(context.Background(), c.url(c.primaryPort, "postgres"))
		var state string
		if err == nil {
			err = conn.QueryRow(context.Background(),
				"SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1' AND state = 'streaming'").Scan(&state)
			conn.Close(context.Background())
		}
		if state == want {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("standby not streaming as %s: %q, %v\n%s", want, state, err, c.logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *cluster) url(port int, db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", port, db)
}

// multiHostURL lists both servers; libpq-style target_session_attrs makes
// pgx connect only to the one that accepts writes (the primary, and the
// standby once promoted).
func (c *cluster) multiHostURL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d,127.0.0.1:%d/postgres?sslmode=disable&target_session_attrs=read-write&connect_timeout=2",
		c.primaryPort, c.stbPort)
}

// killPrimary stops the primary the way a crash does (immediate: no
// shutdown checkpoint, clients cut off).
func (c *cluster) killPrimary() {
	c.t.Helper()
	c.pg("pg_ctl", "-D", c.primary, "-m", "immediate", "-w", "stop")
}

// promote makes the standby the primary and waits until it accepts writes.
func (c *cluster) promote() {
	c.t.Helper()
	c.pg("pg_ctl", "-D", c.standby, "-w", "-t", "30", "promote")
}

// remove stops whatever still runs and deletes the directories.
func (c *cluster) remove() {
	for _, d := range []string{c.primary, c.standby} {
		if _, err := os.Stat(filepath.Join(d, "postmaster.pid")); err == nil {
			_ = c.pgCmd("pg_ctl", "-D", d, "-m", "immediate", "-w", "stop").Run()
		}
	}
	if err := os.RemoveAll(c.dir); err != nil {
		c.t.Errorf("remove %s: %v", c.dir, err)
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	n, _ := strconv.Atoi(port)
	return n
}
