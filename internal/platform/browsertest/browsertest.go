// Package browsertest drives a real hopnhat through a real browser: it finds
// Chromium, starts it headless through chromedp, builds the hopnhat binary and
// runs `hopnhat serve` on a free loopback port for the length of a test.
package browsertest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hopnhat/internal/platform/dbtest"
)

// ChromiumEnv names the variable that points at a Chromium or Chrome binary
// when it is not in one of the usual places.
const ChromiumEnv = "HOPNHAT_CHROMIUM"

// Flags returns the command-line switches the browser gets, besides a fresh
// --user-data-dir: headless, no sandbox (tests run as root in containers), and
// nothing that talks to the network on its own.
func Flags() []string {
	return []string{
		"headless", "no-sandbox", "disable-gpu", "disable-background-networking",
		"disable-component-update", "disable-sync", "no-first-run",
	}
}

// Chromium returns the path of the browser binary. Without one it skips t with
// a reason, or fails it under HOPNHAT_REQUIRE_ALL=1.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(ChromiumEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			dbtest.Skip(t, fmt.Sprintf("%s=%s: %v", ChromiumEnv, p, err))
		}
		return p
	}
	// Debian's /usr/bin/chromium is a shell wrapper that adds flags of its own
	// (extensions, GPU rasterization); the binary behind it takes exactly ours.
	if fi, err := os.Stat("/usr/lib/chromium/chromium"); err == nil && !fi.IsDir() {
		return "/usr/lib/chromium/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	dbtest.Skip(t, "no Chromium or Chrome found (apt-get install chromium, or set "+ChromiumEnv+")")
	return ""
}

// Browser starts a headless Chromium with a fresh profile and returns the
// context of its first tab. The browser lives at most budget and is closed
// when t ends; give each action a shorter timeout derived from the returned
// context. New tabs are chromedp.NewContext(ctx); a tab with its own cookies
// is chromedp.NewContext(ctx, chromedp.WithNewBrowserContext()).
func Browser(t testing.TB, budget time.Duration) context.Context {
	t.Helper()
	exe := Chromium(t)
	profile, err := os.MkdirTemp("", "hopnhat-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(exe), chromedp.UserDataDir(profile), chromedp.CombinedOutput(&out)}
	for _, f := range Flags() {
		opts = append(opts, chromedp.Flag(f, true))
	}
	root, cancelRoot := context.WithTimeout(context.Background(), budget)
	alloc, cancelAlloc := chromedp.NewExecAllocator(root, opts...)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser to exit
		cancelRoot()
		// Chromium's helpers can still write into the profile just after the
		// browser exits; a leftover temp dir is not worth failing a test for.
		for i := 0; i < 50; i++ {
			if err = os.RemoveAll(profile); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Logf("remove browser profile: %v", err)
		}
		if t.Failed() && out.Len() > 0 {
			t.Logf("browser output:\n%s", tail(out.String(), 4000))
		}
	})
	// The first action starts the browser and ties its life to the context it
	// gets, so it runs on tab itself; a browser that hangs at start still fails
	// the test after a while instead of eating the whole budget.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(tab) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start %s: %v\n%s", exe, err, tail(out.String(), 4000))
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("start %s: no browser after 30s\n%s", exe, tail(out.String(), 4000))
	}
	return tab
}

// Build compiles hopnhat into t.TempDir() and returns the binary's path. Call
// it once per test package (in the one test that starts servers) and share
// the path.
func Build(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hopnhat")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// `go test` puts its own GOROOT/bin first on PATH, so this is the same toolchain.
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "hopnhat/cmd/hopnhat")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build hopnhat: %v\n%s", err, out)
	}
	return bin
}

// Server is a running `hopnhat serve`.
type Server struct {
	URL      string // http://127.0.0.1:PORT, as the server printed it
	Password string // the demo accounts' shared password, or the first administrator's
	DataDir  string
	Stdout   string // what the server printed up to the moment it listened

	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan error
}

// The lines `hopnhat serve` prints that Serve reads.
const (
	runningPrefix  = "hopnhat đang chạy / is running: "
	demoPwPrefix   = "mật khẩu chung / shared password: "
	adminPwPrefix  = "mật khẩu / password: "
	startupTimeout = 60 * time.Second
)

// Serve starts `bin serve` with args, on a port the kernel picks on 127.0.0.1
// and a fresh data directory, waits until it listens and reads the password
// it printed. At cleanup it sends SIGTERM and fails t unless the server stops
// cleanly within the shutdown timeout.
func Serve(t testing.TB, bin string, args ...string) *Server {
	t.Helper()
	s := &Server{DataDir: t.TempDir(), stderr: &syncBuffer{}, done: make(chan error, 1)}
	args = append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", s.DataDir,
		"--log-format", "text", "--shutdown-timeout", "5s"}, args...)
	s.cmd = exec.Command(bin, args...)
	s.cmd.Env = cleanEnv()
	s.cmd.Stderr = s.stderr
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start hopnhat: %v", err)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() { s.stop(t) })

	var printed strings.Builder
	timeout := time.After(startupTimeout)
	for s.URL == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("hopnhat serve %v exited before listening:\n%s\n%s", args, printed.String(), s.stderr.String())
			}
			printed.WriteString(line + "\n")
			trimmed := strings.TrimSpace(line)
			if v, ok := strings.CutPrefix(trimmed, demoPwPrefix); ok {
				s.Password = strings.TrimSpace(v)
			} else if v, ok := strings.CutPrefix(trimmed, adminPwPrefix); ok {
				s.Password = strings.TrimSpace(v)
			} else if v, ok := strings.CutPrefix(trimmed, runningPrefix); ok {
				s.URL = strings.TrimSpace(v)
			}
		case <-timeout:
			t.Fatalf("hopnhat serve %v did not listen within %s:\n%s\n%s", args, startupTimeout, printed.String(), s.stderr.String())
		}
	}
	s.Stdout = printed.String()
	// Keep reading so a later line can never block the server on a full pipe.
	go func() {
		for range lines {
		}
	}()
	return s
}

// Stderr returns what the server has logged so far.
func (s *Server) Stderr() string { return s.stderr.String() }

func (s *Server) stop(t testing.TB) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("SIGTERM hopnhat: %v", err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("hopnhat serve did not stop cleanly on SIGTERM: %v\n%s", err, tail(s.stderr.String(), 4000))
		}
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		t.Errorf("hopnhat serve still running 15s after SIGTERM; killed\n%s", tail(s.stderr.String(), 4000))
	}
	if t.Failed() {
		t.Logf("hopnhat serve log:\n%s", tail(s.stderr.String(), 8000))
	}
}

// cleanEnv is the test's environment without HOPNHAT_ settings, so a
// developer's own HOPNHAT_DATABASE_URL or HOPNHAT_ADDR cannot leak into the
// server under test.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOPNHAT_") {
			env = append(env, kv)
		}
	}
	return env
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// syncBuffer is a bytes.Buffer safe for a writer goroutine and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func (b *syncBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Len()
}
