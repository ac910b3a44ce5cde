package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// run executes the CLI with args against dataDir and returns stdout, stderr
// and the error.
func run(t *testing.T, dataDir, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errw bytes.Buffer
	root := newRoot(&out, &errw)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(append(args, "--data-dir", dataDir))
	err := root.ExecuteContext(context.Background())
	return out.String(), errw.String(), err
}

func mustRun(t *testing.T, dataDir, stdin string, args ...string) string {
	t.Helper()
	out, errs, err := run(t, dataDir, stdin, args...)
	if err != nil {
		t.Fatalf("hopnhat %v: %v\n%s%s", args, err, out, errs)
	}
	return out
}

func TestCLIUsersKeysAudit(t *testing.T) {
	dir := t.TempDir()
	out := mustRun(t, dir, "", "migrate", "up")
	if !strings.Contains(out, "sqlite") {
		t.Fatalf("migrate up: %q", out)
	}
	out = mustRun(t, dir, "", "migrate", "status")
	for _, m := range []string{"audit", "auth", "jobs"} {
		if !strings.Contains(out, m) || strings.Contains(out, "pending") {
			t.Fatalf("migrate status lacks applied %s:\n%s", m, out)
		}
	}
	out = mustRun(t, dir, "0123456789ab\n", "user", "add", "--username", "ha.tran", "--name", "Trần Thu Hà", "--role", "officer",
		"--scope", "ward", "--scope-code", "26740", "--password-stdin")
	if !strings.Contains(out, "ha.tran") || strings.Contains(out, "mật khẩu") {
		t.Fatalf("user add with stdin password: %q", out)
	}
	out = mustRun(t, dir, "", "user", "add", "--username", "minh", "--name", "Lê Minh", "--role", "admin")
	if !strings.Contains(out, "mật khẩu / password: ") {
		t.Fatalf("generated password not printed: %q", out)
	}
	_, _, err := run(t, dir, "short\n", "user", "add", "--username", "x", "--name", "", "--role", "boss", "--password-stdin")
	if err == nil || !strings.Contains(err.Error(), "Mật khẩu cần ít nhất 10 ký tự") || !strings.Contains(err.Error(), "Vai trò không hợp lệ") {
		t.Fatalf("invalid user: got %v, want the Vietnamese field problems", err)
	}
	out = mustRun(t, dir, "", "user", "list")
	if !strings.Contains(out, "Trần Thu Hà") || !strings.Contains(out, "ward:26740") {
		t.Fatalf("user list: %q", out)
	}
	mustRun(t, dir, "", "user", "disable", "ha.tran")
	if out = mustRun(t, dir, "", "user", "list"); !strings.Contains(out, "disabled") {
		t.Fatalf("disabled user not shown so: %q", out)
	}
	out = mustRun(t, dir, "", "user", "passwd", "minh")
	if !strings.Contains(out, "mật khẩu / password: ") {
		t.Fatalf("passwd: %q", out)
	}
	if _, _, err := run(t, dir, "", "user", "passwd", "khong.co"); err == nil {
		t.Fatal("passwd of an unknown user: want an error")
	}

	key := strings.TrimSpace(mustRun(t, dir, "", "apikey", "create", "--name", "LGSP", "--role", "viewer", "--expires", "31/12/2030"))
	if !strings.HasPrefix(key, "hnk_") {
		t.Fatalf("apikey create printed %q", key)
	}
	id := strings.SplitN(strings.TrimPrefix(key, "hnk_"), "_", 2)[0]
	if out = mustRun(t, dir, "", "apikey", "list"); !strings.Contains(out, id) || !strings.Contains(out, "active") {
		t.Fatalf("apikey list: %q", out)
	}
	mustRun(t, dir, "", "apikey", "revoke", id)
	if out = mustRun(t, dir, "", "apikey", "list"); !strings.Contains(out, "revoked") {
		t.Fatalf("revoked key: %q", out)
	}

	out = mustRun(t, dir, "", "audit", "verify")
	if !strings.Contains(out, "intact") {
		t.Fatalf("audit verify: %q", out)
	}
	// Tamper with the file directly: verify must fail with exit status 3.
	raw, err := sql.Open("sqlite", filepath.Join(dir, "hopnhat.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE audit_log SET actor = 'cli:someone-else' WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	out, _, err = run(t, dir, "", "audit", "verify")
	var ec exitCode
	if !errors.As(err, &ec) || ec != 3 || !strings.Contains(out, "entry 2") || !strings.Contains(out, "edited") {
		t.Fatalf("tampered trail: got %v %q, want exit 3 naming entry 2 edited", err, out)
	}
}

func TestCLIBackupRestore(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "0123456789ab\n", "user", "add", "--username", "before", "--name", "Trước sao lưu", "--role", "viewer", "--password-stdin")
	backup := filepath.Join(t.TempDir(), "b.db")
	mustRun(t, dir, "", "backup", backup)
	mustRun(t, dir, "0123456789ab\n", "user", "add", "--username", "after", "--name", "Sau sao lưu", "--role", "viewer", "--password-stdin")
	mustRun(t, dir, "", "restore", backup)
	out := mustRun(t, dir, "", "user", "list")
	if !strings.Contains(out, "before") || strings.Contains(out, "after") {
		t.Fatalf("after restore: %q, want only the user from before the backup", out)
	}
	if out := mustRun(t, dir, "", "audit", "verify"); !strings.Contains(out, "intact") {
		t.Fatalf("restored trail: %q", out)
	}
}

func TestHelpIsBilingual(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"user", "add", "--help"}, {"audit", "verify", "--help"}} {
		var buf bytes.Buffer
		root := newRoot(&buf, &buf)
		root.SetArgs(args)
		err := root.Execute()
		out := buf.String()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "/") || !strings.ContainsAny(out, "ạảãáàâầấậẩẫăắằặẳẵđêềếệểễôồốộổỗơờớợởỡưừứựửữ") {
			t.Errorf("%v help lacks Vietnamese: %.200s", args, out)
		}
	}
}

// A server that cannot listen says so and exits; it does not linger running
// jobs.
func TestServeExitsWhenItCannotListen(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		_, _, err := run(t, t.TempDir(), "", "serve", "--addr", ln.Addr().String(), "--log-level", "error")
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "address already in use") {
			t.Fatalf("got %v, want the listen error", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not exit after failing to listen")
	}
}
