package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"hopnhat/internal/exchange"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
)

// The test binary doubles as the hopnhat program and as an upstream, so the
// gateway tests below kill and restart real processes.
const (
	envRunMain      = "HOPNHAT_TEST_RUN_MAIN"     // run hopnhat with the arguments after "--"
	envRunUpstream  = "HOPNHAT_TEST_RUN_UPSTREAM" // serve as an upstream named by the value
	upstreamListens = "upstream listening on "
)

func TestMain(m *testing.M) {
	switch {
	case os.Getenv(envRunMain) != "":
		args := os.Args
		for i, a := range args {
			if a == "--" {
				args = args[i+1:]
				break
			}
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		root := newRoot(os.Stdout, os.Stderr)
		root.SetArgs(args)
		err := root.ExecuteContext(ctx)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "lỗi / error:", err)
			os.Exit(1)
		}
		os.Exit(0)
	case os.Getenv(envRunUpstream) != "":
		runTestUpstream(os.Getenv(envRunUpstream))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runTestUpstream answers every call with a small JSON naming itself.
func runTestUpstream(name string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(upstreamListens + ln.Addr().String())
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"he_thong":%q,"duong_dan":%q}`, name, r.URL.Path)
	}))
}

// proc is a child process of the test.
type proc struct {
	cmd    *exec.Cmd
	lines  chan string
	done   chan error
	stderr *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startProc(t *testing.T, env string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), env)
	p := &proc{cmd: cmd, lines: make(chan string, 16), done: make(chan error, 1), stderr: &lockedBuffer{}}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		p.done <- cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s stderr:\n%s", strings.Join(args, " "), p.stderr.String())
		}
	})
	return p
}

// waitLine waits for a line of the child's output containing want.
func (p *proc) waitLine(t *testing.T, want string) string {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case l := <-p.lines:
			if strings.Contains(l, want) {
				return l
			}
		case err := <-p.done:
			t.Fatalf("process exited (%v) before printing %q:\n%s", err, want, p.stderr.String())
		case <-timeout:
			t.Fatalf("no %q after 60 s:\n%s", want, p.stderr.String())
		}
	}
}

// runMain runs one hopnhat command in this process and returns its output.
func runMain(t *testing.T, args ...string) string {
	t.Helper()
	var out, errw bytes.Buffer
	root := newRoot(&out, &errw)
	root.SetArgs(args)
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("hopnhat %s: %v\n%s", strings.Join(args, " "), err, errw.String())
	}
	return strings.TrimSpace(out.String())
}

// exchangeFlushEvery is how often a gateway process writes its message log.
const exchangeFlushEvery = exchange.DefaultFlushEvery

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestGatewayProcessesFailoverAndRestart kills the primary upstream (kill -9)
// under load, then restarts the gateway gracefully under load (a new process
// on the same address with --reuse-port, then SIGTERM to the old one). No
// call may fail, and the message log must hold one record per call.
func TestGatewayProcessesFailoverAndRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes and loads them for several seconds")
	}
	eachGatewayDB(t, gatewayFailoverAndRestart)
}

// eachGatewayDB runs fn with the global flags that point hopnhat at a fresh
// SQLite data directory and, when HOPNHAT_TEST_POSTGRES is set, at a fresh
// PostgreSQL schema (where the gateway processes share the database as they
// would behind a load balancer).
func eachGatewayDB(t *testing.T, fn func(t *testing.T, dbArgs []string)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, []string{"--data-dir", filepath.Join(t.TempDir(), "data")})
	})
	t.Run("postgres", func(t *testing.T) {
		if dbtest.PostgresURL() == "" {
			dbtest.Skip(t, "HOPNHAT_TEST_POSTGRES is not set")
		}
		fn(t, []string{"--data-dir", filepath.Join(t.TempDir(), "data"), "--database-url", dbtest.PostgresSchemaURL(t)})
	})
}

// openGatewayDB opens the database dbArgs name.
func openGatewayDB(t *testing.T, dbArgs []string) *db.DB {
	t.Helper()
	var cfg db.Config
	for i := 0; i+1 < len(dbArgs); i += 2 {
		switch dbArgs[i] {
		case "--data-dir":
			cfg.DataDir = dbArgs[i+1]
		case "--database-url":
			cfg.URL = dbArgs[i+1]
		}
	}
	d, err := db.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// setUpGateway registers a service on the two upstreams and a consumer
// allowed to GET it, and returns the consumer's key.
func setUpGateway(t *testing.T, dbArgs []string, primaryAddr, backupAddr string) string {
	t.Helper()
	cli := func(args ...string) string { return runMain(t, append(slices.Clone(dbArgs), args...)...) }
	args := []string{"gateway", "service", "add", "--code", "ho-tich", "--name", "Hộ tịch", "--primary", "http://" + primaryAddr,
		"--timeout-ms", "5000"}
	if backupAddr != "" {
		args = append(args, "--backup", "http://"+backupAddr)
	}
	cli(args...)
	consumer := cli("gateway", "consumer", "add", "--name", "Cổng dịch vụ công")
	key := cli("gateway", "key", "issue", "--consumer", consumer)
	cli("gateway", "grant", "--consumer", consumer, "--service", "ho-tich", "--methods", "GET", "--rate", "100000000")
	return key
}

func gatewayFailoverAndRestart(t *testing.T, dbArgs []string) {
	primary := startProc(t, envRunUpstream+"=primary")
	backup := startProc(t, envRunUpstream+"=backup")
	primaryAddr := strings.TrimPrefix(primary.waitLine(t, upstreamListens), upstreamListens)
	backupAddr := strings.TrimPrefix(backup.waitLine(t, upstreamListens), upstreamListens)

	key := setUpGateway(t, dbArgs, primaryAddr, backupAddr)

	addr := freePort(t)
	gwArgs := append(slices.Clone(dbArgs), "--log-level", "warn", "gateway", "--addr", addr, "--reuse-port")
	gwA := startProc(t, envRunMain+"=1", gwArgs...)
	gwA.waitLine(t, "is running")

	var ok, failed, fromBackup atomic.Int64
	var firstErr atomic.Value
	stopLoad := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stopLoad:
					return
				default:
				}
				req, _ := http.NewRequest("GET", fmt.Sprintf("http://%s/gw/ho-tich/khai-sinh/%d-%d", addr, w, i), nil)
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("status %d", resp.StatusCode))
					continue
				}
				ok.Add(1)
				if resp.Header.Get("X-Upstream") == "backup" {
					fromBackup.Add(1)
				}
			}
		}()
	}
	t.Cleanup(func() {
		select {
		case <-stopLoad:
		default:
			close(stopLoad)
		}
		wg.Wait()
	})

	time.Sleep(time.Second)
	beforeKill := ok.Load()
	if err := primary.cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	<-primary.done
	time.Sleep(2 * time.Second)
	if failed.Load() != 0 {
		t.Fatalf("%d calls failed after the primary was killed (first: %v)", failed.Load(), firstErr.Load())
	}
	if beforeKill == 0 || fromBackup.Load() == 0 {
		t.Fatalf("load: %d calls before the kill, %d answered by the backup after it", beforeKill, fromBackup.Load())
	}

	// Graceful restart: the new process takes the address, the old one stops.
	gwB := startProc(t, envRunMain+"=1", gwArgs...)
	gwB.waitLine(t, "is running")
	time.Sleep(300 * time.Millisecond)
	beforeRestart := ok.Load()
	if err := gwA.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-gwA.done:
		if err != nil {
			t.Fatalf("the old gateway exited with %v:\n%s", err, gwA.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the old gateway did not stop within 30 s of SIGTERM")
	}
	time.Sleep(1500 * time.Millisecond)
	close(stopLoad)
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d calls failed across the restart (first: %v)", failed.Load(), firstErr.Load())
	}
	if ok.Load() <= beforeRestart {
		t.Fatal("no call was answered after the restart")
	}
	if err := gwB.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-gwB.done; err != nil {
		t.Fatalf("the new gateway exited with %v", err)
	}

	// Both processes wrote every record before they exited.
	n, err := gatewayMessageCount(context.Background(), openGatewayDB(t, dbArgs))
	if err != nil {
		t.Fatal(err)
	}
	if n != ok.Load() {
		t.Fatalf("message log: %d records for %d calls", n, ok.Load())
	}
	t.Logf("%d calls, %d answered by the backup after the kill, none failed; %d records", ok.Load(), fromBackup.Load(), n)
}

// TestGatewayCrashLosesOnlyTheLastFlush kills the gateway (kill -9) once its
// calls are older than the message log's flush interval: every one of them
// must be in the log, which is the bound the README gives for a crash.
func TestGatewayCrashLosesOnlyTheLastFlush(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	eachGatewayDB(t, func(t *testing.T, dbArgs []string) {
		up := startProc(t, envRunUpstream+"=primary")
		key := setUpGateway(t, dbArgs, strings.TrimPrefix(up.waitLine(t, upstreamListens), upstreamListens), "")
		addr := freePort(t)
		gw := startProc(t, envRunMain+"=1", append(slices.Clone(dbArgs), "--log-level", "warn", "gateway", "--addr", addr)...)
		gw.waitLine(t, "is running")
		const calls = 300
		for i := range calls {
			req, _ := http.NewRequest("GET", fmt.Sprintf("http://%s/gw/ho-tich/%d", addr, i), nil)
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("call %d: %d", i, resp.StatusCode)
			}
		}
		time.Sleep(3 * exchangeFlushEvery)
		if err := gw.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-gw.done
		n, err := gatewayMessageCount(context.Background(), openGatewayDB(t, dbArgs))
		if err != nil {
			t.Fatal(err)
		}
		if n != calls {
			t.Fatalf("after kill -9: %d records for %d calls finished %v before it", n, calls, 3*exchangeFlushEvery)
		}
	})
}

// gatewayMessageCount counts the message log (the tests check that no record
// was lost).
func gatewayMessageCount(ctx context.Context, d *db.DB) (int64, error) {
	var n int64
	err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM xchg_message`).Scan(&n)
	return n, err
}
