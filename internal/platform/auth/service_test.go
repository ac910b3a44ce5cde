package auth_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/auth"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/reqctx"
)

var modules = []db.Module{audit.Migrations, auth.Migrations}

// cheap keeps argon2 fast in tests; production uses auth.DefaultArgon2.
var cheap = auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1}

func setup(t *testing.T, d *db.DB) (*auth.Service, *dbtest.Clock) {
	t.Helper()
	clock := &dbtest.Clock{T: time.Date(2025, 7, 1, 8, 0, 0, 0, time.UTC)}
	d.SetClock(clock.Now)
	s, err := auth.NewService(d, slog.New(slog.NewTextHandler(io.Discard, nil)), auth.Config{Argon2: cheap})
	if err != nil {
		t.Fatal(err)
	}
	return s, clock
}

const pw = "mat-khau-dung-1"

func mkUser(t *testing.T, s *auth.Service, name string, role reqctx.Role) auth.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), auth.NewUser{Username: name, FullName: "Nguyễn Văn " + name, Role: role,
		Scope: reqctx.Scope{Kind: reqctx.ScopeProvince}, Password: pw})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return u
}

func TestCreateUserValidates(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		s, _ := setup(t, d)
		ok := auth.NewUser{Username: "an.nguyen", FullName: "Nguyễn Văn An", Role: reqctx.RoleOfficer,
			Scope: reqctx.Scope{Kind: reqctx.ScopeWard, Code: "26740"}, Password: "0123456789"}
		cases := []struct {
			name  string
			edit  func(u *auth.NewUser)
			field string
		}{
			{"username with diacritics refused", func(u *auth.NewUser) { u.Username = "nguyễn" }, "username"},
			{"short username refused", func(u *auth.NewUser) { u.Username = "ab" }, "username"},
			{"empty full name refused", func(u *auth.NewUser) { u.FullName = "  " }, "full_name"},
			{"bad e-mail refused", func(u *auth.NewUser) { u.Email = "not an address" }, "email"},
			{"unknown role refused", func(u *auth.NewUser) { u.Role = "root" }, "role"},
			{"ward scope without code refused", func(u *auth.NewUser) { u.Scope.Code = "" }, "scope"},
			{"province scope with code refused", func(u *auth.NewUser) { u.Scope = reqctx.Scope{Kind: reqctx.ScopeProvince, Code: "x"} }, "scope"},
			{"short password refused", func(u *auth.NewUser) { u.Password = "ngắn" }, "password"},
			{"huge password refused", func(u *auth.NewUser) { u.Password = strings.Repeat("x", 300) }, "password"},
		}
		for _, tc := range cases {
			in := ok
			tc.edit(&in)
			_, err := s.CreateUser(context.Background(), in)
			var ae *apperr.Error
			if !errorsAs(err, &ae) || ae.Kind != apperr.Invalid || ae.Field[tc.field] == "" {
				t.Errorf("%s: got %v, want Invalid on %s", tc.name, err, tc.field)
			}
		}
		u, err := s.CreateUser(context.Background(), ok)
		if err != nil {
			t.Fatalf("valid user: %v", err)
		}
		if u.Username != "an.nguyen" {
			t.Fatalf("got %q", u.Username)
		}
		in := ok
		in.Username = "  AN.NGUYEN "
		if _, err := s.CreateUser(context.Background(), in); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("duplicate username in another case: got %v, want Conflict", err)
		}
		// Search ignores diacritics and case.
		got, total, err := s.Users(context.Background(), auth.UserFilter{Query: "NGUYEN van"})
		if err != nil || total != 1 || len(got) != 1 {
			t.Fatalf("search without diacritics: got %d (%v), want 1", total, err)
		}
	})
}

func TestLoginAndSessions(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		s, clock := setup(t, d)
		ctx := context.Background()
		u := mkUser(t, s, "hoa", reqctx.RoleOfficer)
		tok, got, err := s.Login(ctx, auth.Credentials{Username: "HOA", Password: pw, Client: "10.0.0.1"})
		if err != nil || got.ID != u.ID {
			t.Fatalf("login: %v", err)
		}
		p, err := s.SessionPrincipal(ctx, tok)
		if err != nil || p.ID != u.ID || p.Role != reqctx.RoleOfficer {
			t.Fatalf("session principal: %+v %v", p, err)
		}
		// Idle: active use keeps it alive past the idle limit in total…
		for range 4 {
			clock.Advance(20 * time.Minute)
			if _, err := s.SessionPrincipal(ctx, tok); err != nil {
				t.Fatalf("session used every 20 min expired: %v", err)
			}
		}
		// …but 31 minutes of silence ends it.
		clock.Advance(31 * time.Minute)
		if _, err := s.SessionPrincipal(ctx, tok); !apperr.Is(err, apperr.Unauthenticated) {
			t.Fatalf("idle session: got %v, want Unauthenticated", err)
		}
		// Absolute: even a busy session ends after 12 h.
		tok, _, _ = s.Login(ctx, auth.Credentials{Username: "hoa", Password: pw})
		for range 12*3 + 1 {
			clock.Advance(20 * time.Minute)
			_, err = s.SessionPrincipal(ctx, tok)
		}
		if !apperr.Is(err, apperr.Unauthenticated) {
			t.Fatalf("session older than 12 h: got %v, want Unauthenticated", err)
		}
		// Logout ends it at once.
		tok, _, _ = s.Login(ctx, auth.Credentials{Username: "hoa", Password: pw})
		if err := s.Logout(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionPrincipal(ctx, tok); err == nil {
			t.Fatal("session after logout still valid")
		}
	})
}

func TestLoginErrorsRevealNothing(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		s, _ := setup(t, d)
		ctx := reqctx.WithActor(context.Background(), "user:admin")
		u := mkUser(t, s, "disabled.one", reqctx.RoleViewer)
		yes := true
		if _, err := s.UpdateUser(ctx, u.ID, auth.UserUpdate{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		mkUser(t, s, "real", reqctx.RoleViewer)
		for _, c := range []auth.Credentials{
			{Username: "nobody", Password: pw},
			{Username: "real", Password: "wrong-password"},
			{Username: "disabled.one", Password: pw},
		} {
			_, _, err := s.Login(ctx, c)
			var ae *apperr.Error
			if !errorsAs(err, &ae) || ae.Key != "auth.bad_credentials" || ae.Kind != apperr.Unauthenticated {
				t.Errorf("%s: got %v, want the one generic error", c.Username, err)
			}
		}
		entries, _ := audit.List(context.Background(), d, audit.Filter{Action: "session.login_failed"})
		if len(entries) != 3 {
			t.Fatalf("got %d login_failed audit entries, want 3", len(entries))
		}
	})
}

func TestThrottleLocksAccountThenForgets(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		s, clock := setup(t, d)
		ctx := context.Background()
		mkUser(t, s, "target", reqctx.RoleViewer)
		try := func(p string) error {
			_, _, err := s.Login(ctx, auth.Credentials{Username: "target", Password: p, Client: "203.0.113.9"})
			return err
		}
		for i := range 5 {
			if err := try("guess-guess"); !apperr.Is(err, apperr.Unauthenticated) {
				t.Fatalf("failure %d: got %v", i+1, err)
			}
		}
		// Locked now: even the right password is refused, with a Retry-After.
		err := try(pw)
		var ae *apperr.Error
		if !errorsAs(err, &ae) || ae.Kind != apperr.TooManyRequests || ae.RetryAfter < 1 || ae.RetryAfter > 61 {
			t.Fatalf("locked account: got %v, want TooManyRequests with Retry-After ≤ 61 s", err)
		}
		clock.Advance(61 * time.Second)
		// Next failure doubles the lock.
		_ = try("guess-again")
		err = try(pw)
		if !errorsAs(err, &ae) || ae.RetryAfter < 100 {
			t.Fatalf("second lock: got %v, want about 2 min", err)
		}
		clock.Advance(3 * time.Minute)
		if err := try(pw); err != nil {
			t.Fatalf("after the lock: %v", err)
		}
		// Success cleared the account's count.
		for range 4 {
			_ = try("x-x-x-x-x-x")
		}
		if err := try(pw); err != nil {
			t.Fatalf("four failures after a success must not lock: %v", err)
		}
		// A locked account does not lock another one on the same address.
		entries, _ := audit.List(ctx, d, audit.Filter{Action: "session.locked"})
		if len(entries) == 0 {
			t.Fatal("no session.locked audit entry")
		}
	})
}

func TestThrottlePerClientAcrossAccounts(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		s, _ := setup(t, d)
		ctx := context.Background()
		mkUser(t, s, "victim", reqctx.RoleViewer)
		// A sprayer tries one password on many accounts from one address.
		for i := range 20 {
			_, _, _ = s.Login(ctx, auth.Credentials{Username: "acct" + string(rune('a'+i)), Password: "Spring2025!", Client: "198.51.100.7"})
		}
		_, _, err := s.Login(ctx, auth.Credentials{Username: "victim", Password: pw, Client: "198.51.100.7"})
		if !apperr.Is(err, apperr.TooManyRequests) {
			t.Fatalf("sprayer's address: got %v, want TooManyRequests", err)
		}
		if _, _, err := s.Login(ctx, auth.Credentials{Username: "victim", Password: pw, Client: "192.0.2.1"}); err != nil {
			t.Fatalf("the victim from elsewhere: %v", err)
		}
	})
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		s, _ := setup(t, d)
		ctx := context.Background()
		u := mkUser(t, s, "lan", reqctx.RoleLeader)
		a, _, _ := s.Login(ctx, auth.Credentials{Username: "lan", Password: pw})
		b, _, _ := s.Login(ctx, auth.Credentials{Username: "lan", Password: pw})
		pa, err := s.SessionPrincipal(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.ChangePassword(ctx, u.ID, "wrong-current", "mat-khau-moi-2", pa.SessionID); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("wrong current password: got %v, want Invalid", err)
		}
		if err := s.ChangePassword(ctx, u.ID, pw, "mat-khau-moi-2", pa.SessionID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionPrincipal(ctx, a); err != nil {
			t.Fatalf("the session that changed the password ended: %v", err)
		}
		if _, err := s.SessionPrincipal(ctx, b); err == nil {
			t.Fatal("another session survived the password change")
		}
		if _, _, err := s.Login(ctx, auth.Credentials{Username: "lan", Password: pw}); err == nil {
			t.Fatal("old password still works")
		}
		if _, _, err := s.Login(ctx, auth.Credentials{Username: "lan", Password: "mat-khau-moi-2"}); err != nil {
			t.Fatalf("new password: %v", err)
		}
		// An admin reset ends every session and forces a change.
		if err := s.ResetPassword(ctx, u.ID, "tam-thoi-12345"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionPrincipal(ctx, a); err == nil {
			t.Fatal("session survived an admin reset")
		}
		tok, _, err := s.Login(ctx, auth.Credentials{Username: "lan", Password: "tam-thoi-12345"})
		if err != nil {
			t.Fatal(err)
		}
		p, _ := s.SessionPrincipal(ctx, tok)
		if !p.MustChangePassword {
			t.Fatal("after a reset the user must change the password")
		}
	})
}

func TestUpdateUserRefusesStaleVersionAndSelfLockout(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		s, _ := setup(t, d)
		admin := mkUser(t, s, "root.admin", reqctx.RoleAdmin)
		u := mkUser(t, s, "minh", reqctx.RoleViewer)
		ctx := reqctx.WithPrincipal(context.Background(), &reqctx.Principal{Kind: "user", ID: admin.ID, Name: admin.Username, Role: reqctx.RoleAdmin})
		name1, name2 := "Lê Minh", "Lê Văn Minh"
		if _, err := s.UpdateUser(ctx, u.ID, auth.UserUpdate{FullName: &name1, Version: u.Version}); err != nil {
			t.Fatal(err)
		}
		// A second editor who loaded the same version must not overwrite.
		if _, err := s.UpdateUser(ctx, u.ID, auth.UserUpdate{FullName: &name2, Version: u.Version}); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("stale version: got %v, want Conflict", err)
		}
		got, _ := s.User(ctx, u.ID)
		if got.FullName != name1 {
			t.Fatalf("got %q, want %q", got.FullName, name1)
		}
		yes := true
		if _, err := s.UpdateUser(ctx, admin.ID, auth.UserUpdate{Disabled: &yes}); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("admin disabling self: got %v, want Forbidden", err)
		}
		e, _ := audit.List(ctx, d, audit.Filter{ObjectID: u.ID, Action: "user.update"})
		if len(e) != 1 || e[0].Actor != "user:root.admin" {
			t.Fatalf("got %d update entries (%v), want 1 by user:root.admin", len(e), e)
		}
	})
}

func TestAPIKeys(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		s, clock := setup(t, d)
		ctx := context.Background()
		secret, k, err := s.CreateAPIKey(ctx, auth.NewAPIKey{Name: "LGSP Hải Dương", Role: reqctx.RoleViewer, ExpiresAt: clock.Now().Add(48 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(secret, auth.APIKeyPrefix+k.ID+"_") {
			t.Fatalf("key %q does not carry its id", secret)
		}
		p, err := s.APIKeyPrincipal(ctx, secret)
		if err != nil || p.Kind != "apikey" || p.Role != reqctx.RoleViewer {
			t.Fatalf("principal: %+v %v", p, err)
		}
		for _, bad := range []string{"", "hnk_", secret + "x", strings.Replace(secret, "_", "-", 1), "hnk_" + k.ID + "_", "Bearer " + secret} {
			if _, err := s.APIKeyPrincipal(ctx, bad); !apperr.Is(err, apperr.Unauthenticated) {
				t.Errorf("key %q: got %v, want Unauthenticated", bad, err)
			}
		}
		keys, _ := s.APIKeys(ctx)
		if len(keys) != 1 || keys[0].LastUsedAt.IsZero() {
			t.Fatalf("last used not recorded: %+v", keys)
		}
		clock.Advance(49 * time.Hour)
		if _, err := s.APIKeyPrincipal(ctx, secret); err == nil {
			t.Fatal("expired key accepted")
		}
		secret2, k2, _ := s.CreateAPIKey(ctx, auth.NewAPIKey{Name: "IOC", Role: reqctx.RoleLeader})
		if err := s.RevokeAPIKey(ctx, k2.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.APIKeyPrincipal(ctx, secret2); err == nil {
			t.Fatal("revoked key accepted")
		}
		if err := s.RevokeAPIKey(ctx, "nope"); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("revoke unknown: got %v, want NotFound", err)
		}
	})
}

func TestPasswordHash(t *testing.T) {
	h, err := auth.HashPassword("Mật khẩu có dấu ✓", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("hash %q is not PHC argon2id", h)
	}
	ok, rehash, err := auth.VerifyPassword(h, "Mật khẩu có dấu ✓", auth.DefaultArgon2)
	if err != nil || !ok || !rehash {
		t.Fatalf("verify: ok=%v rehash=%v err=%v; want true true nil", ok, rehash, err)
	}
	if ok, _, _ := auth.VerifyPassword(h, "Mat khau co dau ✓", cheap); ok {
		t.Fatal("a different password verified")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA", "plain"} {
		if _, _, err := auth.VerifyPassword(bad, "x", cheap); err == nil {
			t.Errorf("hash %q: want an error", bad)
		}
	}
}

// Guesses sent all at once get no more tries than guesses sent one by one,
// and no failure is lost to a race on the counter.
func TestThrottleHoldsUnderParallelAttempts(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		s, _ := setup(t, d)
		ctx := context.Background()
		mkUser(t, s, "lanhdao", reqctx.RoleLeader)
		var wg sync.WaitGroup
		var unauth, throttled atomic.Int64
		for i := range 30 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := s.Login(ctx, auth.Credentials{Username: "lanhdao", Password: "doan-mo-" + string(rune('a'+i)), Client: fmt.Sprintf("10.0.%d.1", i)})
				switch {
				case apperr.Is(err, apperr.Unauthenticated):
					unauth.Add(1)
				case apperr.Is(err, apperr.TooManyRequests):
					throttled.Add(1)
				default:
					t.Errorf("attempt %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		if unauth.Load() != 5 || throttled.Load() != 25 {
			t.Fatalf("30 parallel guesses: %d checked, %d throttled; want 5 and 25", unauth.Load(), throttled.Load())
		}
		// One address trying 15 different accounts at once: all 15 counted.
		for i := range 15 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, _ = s.Login(ctx, auth.Credentials{Username: fmt.Sprintf("acct%02d", i), Password: "Spring2025!", Client: "198.51.100.9"})
			}()
		}
		wg.Wait()
		var n int
		if err := d.QueryRowContext(ctx, `SELECT failures FROM login_throttle WHERE throttle_key = 'ip:198.51.100.9'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 15 {
			t.Fatalf("address counter: got %d, want 15", n)
		}
	})
}

func TestHugeUsernameIsBounded(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		s, _ := setup(t, d)
		ctx := context.Background()
		_, _, err := s.Login(ctx, auth.Credentials{Username: strings.Repeat("ả", 300000), Password: "x", Client: "192.0.2.7"})
		if !apperr.Is(err, apperr.Unauthenticated) {
			t.Fatalf("got %v, want the generic error", err)
		}
		var longest int
		if err := d.QueryRowContext(ctx, `SELECT MAX(LENGTH(object_id)) FROM audit_log`).Scan(&longest); err != nil {
			t.Fatal(err)
		}
		if longest > 64 {
			t.Fatalf("an audit entry keeps %d characters of a username, want at most 64", longest)
		}
	})
}

func TestChangePasswordIsThrottled(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		s, _ := setup(t, d)
		ctx := context.Background()
		u := mkUser(t, s, "bi.mat", reqctx.RoleOfficer)
		for range 5 {
			_ = s.ChangePassword(ctx, u.ID, "sai-mat-khau", "mat-khau-moi-99", "")
		}
		if err := s.ChangePassword(ctx, u.ID, pw, "mat-khau-moi-99", ""); !apperr.Is(err, apperr.TooManyRequests) {
			t.Fatalf("after 5 wrong current passwords: got %v, want TooManyRequests", err)
		}
	})
}
