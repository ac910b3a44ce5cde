package exchange_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"hopnhat/internal/exchange"
	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/reqctx"
)

var modules = []db.Module{audit.Migrations, exchange.Migrations}

var ctx = reqctx.WithActor(context.Background(), "user:quantri")

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// setup returns a gateway on d with a clock the test moves.
func setup(t *testing.T, d *db.DB) (*exchange.Service, *dbtest.Clock) {
	t.Helper()
	clock := &dbtest.Clock{T: time.Date(2025, 7, 1, 8, 0, 0, 0, time.UTC)}
	d.SetClock(clock.Now)
	return exchange.NewService(d, discard()), clock
}

func mustService(t *testing.T, s *exchange.Service, in exchange.ServiceInput) exchange.ServiceDef {
	t.Helper()
	d, err := s.CreateService(ctx, in)
	if err != nil {
		t.Fatalf("create service %s: %v", in.Code, err)
	}
	return d
}

func mustConsumer(t *testing.T, s *exchange.Service, name string) exchange.Consumer {
	t.Helper()
	c, err := s.CreateConsumer(ctx, exchange.ConsumerInput{Name: name})
	if err != nil {
		t.Fatalf("create consumer %s: %v", name, err)
	}
	return c
}

func mustKey(t *testing.T, s *exchange.Service, consumerID string) (string, exchange.Key) {
	t.Helper()
	plain, k, err := s.IssueKey(ctx, consumerID)
	if err != nil {
		t.Fatalf("issue key: %v", err)
	}
	return plain, k
}

func TestServiceValidation(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		s, _ := setup(t, d)
		good := exchange.ServiceInput{Code: "ho-tich", Name: "Hộ tịch", PrimaryURL: "http://10.0.0.1/api"}
		tests := []struct {
			name  string
			edit  func(*exchange.ServiceInput)
			field string
		}{
			{"upper case code is lowered and accepted", func(in *exchange.ServiceInput) { in.Code = "HO-TICH-2" }, ""},
			{"one-letter code", func(in *exchange.ServiceInput) { in.Code = "h" }, "code"},
			{"code with a slash", func(in *exchange.ServiceInput) { in.Code = "ho/tich" }, "code"},
			{"relative primary url", func(in *exchange.ServiceInput) { in.PrimaryURL = "/api" }, "primary_url"},
			{"ftp primary url", func(in *exchange.ServiceInput) { in.PrimaryURL = "ftp://10.0.0.1/" }, "primary_url"},
			{"url with user info", func(in *exchange.ServiceInput) { in.PrimaryURL = "http://u:p@10.0.0.1/" }, "primary_url"},
			{"bad backup url", func(in *exchange.ServiceInput) { in.BackupURL = "javascript:alert(1)" }, "backup_url"},
			{"timeout too short", func(in *exchange.ServiceInput) { in.TimeoutMS = 99 }, "timeout_ms"},
			{"timeout too long", func(in *exchange.ServiceInput) { in.TimeoutMS = 120_001 }, "timeout_ms"},
			{"unknown cutover", func(in *exchange.ServiceInput) { in.Cutover = "both" }, "cutover"},
			{"blank name", func(in *exchange.ServiceInput) { in.Name = "  " }, "name"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				in := good
				tt.edit(&in)
				_, err := s.CreateService(ctx, in)
				if tt.field == "" {
					if err != nil {
						t.Fatalf("got %v, want no error", err)
					}
					return
				}
				var ae *apperr.Error
				if !apperr.Is(err, apperr.Invalid) || !asErr(err, &ae) || ae.Field[tt.field] == "" {
					t.Fatalf("got %v, want Invalid on field %s", err, tt.field)
				}
			})
		}
	})
}

func asErr(err error, target **apperr.Error) bool {
	e, ok := err.(*apperr.Error)
	*target = e
	return ok
}

func TestServiceCatalogue(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		s, clock := setup(t, d)
		svc := mustService(t, s, exchange.ServiceInput{Code: "dat-dai", Name: "Đất đai", PrimaryURL: "https://lgsp.haiphong.gov.vn/dat-dai",
			BackupURL: "https://lgsp.haiduong.gov.vn/dat-dai"})
		if svc.TimeoutMS != exchange.DefaultTimeoutMS || svc.Status != exchange.Active || svc.Cutover != exchange.CutoverNew || svc.Version != 1 {
			t.Fatalf("defaults: got %+v", svc)
		}
		if _, err := s.CreateService(ctx, exchange.ServiceInput{Code: "dat-dai", Name: "Khác", PrimaryURL: "http://x/"}); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("duplicate code: got %v, want Invalid", err)
		}
		clock.Advance(time.Minute)
		in := exchange.ServiceInput{Code: "dat-dai", Name: "Đất đai (mới)", PrimaryURL: svc.PrimaryURL, Cutover: exchange.CutoverShadow, TimeoutMS: 5000}
		if _, err := s.UpdateService(ctx, svc.ID, in, svc.Version); fieldOf(err, "backup_url") != "exchange.legacy_url_required" {
			t.Fatalf("shadow without the legacy LGSP's URL: got %v, want backup_url refused", err)
		}
		in.BackupURL, in.HealthPath = "https://lgsp.haiduong.gov.vn/dat-dai/v2", "/health"
		up, err := s.UpdateService(ctx, svc.ID, in, svc.Version)
		if err != nil || up.Version != 2 || up.Name != "Đất đai (mới)" || up.BackupURL != in.BackupURL || up.Cutover != exchange.CutoverShadow ||
			up.HealthPath != "/health" {
			t.Fatalf("update: got %+v, %v", up, err)
		}
		if !up.UpdatedAt.After(up.CreatedAt) {
			t.Fatalf("updated_at: got %v, want after %v", up.UpdatedAt, up.CreatedAt)
		}
		if _, err := s.UpdateService(ctx, svc.ID, in, svc.Version); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("stale version: got %v, want Conflict", err)
		}
		if _, err := s.UpdateService(ctx, "xs_none", in, 1); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("unknown service: got %v, want NotFound", err)
		}
		got, err := s.ServiceByCode(ctx, "dat-dai")
		if err != nil || got.ID != svc.ID || got.TimeoutMS != 5000 {
			t.Fatalf("by code: got %+v, %v", got, err)
		}
		if _, err := s.ServiceByCode(ctx, "khong-co"); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("unknown code: got %v, want NotFound", err)
		}
		mustService(t, s, exchange.ServiceInput{Code: "ho-tich", Name: "Hộ tịch", PrimaryURL: "http://10.0.0.2/"})
		list, err := s.Services(ctx)
		if err != nil || len(list) != 2 || list[0].Code != "dat-dai" || list[1].Code != "ho-tich" {
			t.Fatalf("services: got %v, %v", list, err)
		}
		entries, err := audit.List(ctx, d, audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		actions := map[string]int{}
		for _, e := range entries {
			actions[e.Action]++
		}
		if actions["exchange.service.create"] != 2 || actions["exchange.service.update"] != 1 {
			t.Fatalf("audit: got %v, want 2 creates and 1 update", actions)
		}
	})
}

func TestKeysGrantsAndAuthorize(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		s, clock := setup(t, d)
		svc := mustService(t, s, exchange.ServiceInput{Code: "ho-tich", Name: "Hộ tịch", PrimaryURL: "http://10.0.0.1/"})
		off := mustService(t, s, exchange.ServiceInput{Code: "tam-dung", Name: "Tạm dừng", PrimaryURL: "http://10.0.0.1/", Status: exchange.Disabled})
		other := mustService(t, s, exchange.ServiceInput{Code: "khac", Name: "Khác", PrimaryURL: "http://10.0.0.1/"})
		c := mustConsumer(t, s, "Một cửa điện tử")
		plain, k := mustKey(t, s, c.ID)
		if len(plain) != 35 || !strings.HasPrefix(plain, "xk_") || !strings.HasPrefix(plain, k.Prefix) || len(k.Prefix) >= len(plain) {
			t.Fatalf("key shape: got %q (prefix %q)", plain, k.Prefix)
		}
		if _, err := s.Grant(ctx, c.ID, svc.ID, []string{"get", "POST", "GET"}, 600); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Grant(ctx, c.ID, off.ID, []string{"GET"}, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Grant(ctx, c.ID, svc.ID, []string{"BREW"}, 0); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("unknown method: got %v, want Invalid", err)
		}
		if _, err := s.Grant(ctx, "xc_none", svc.ID, []string{"GET"}, 0); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("unknown consumer: got %v, want NotFound", err)
		}
		gs, err := s.Grants(ctx, c.ID)
		if err != nil || len(gs) != 2 {
			t.Fatalf("grants: got %v, %v", gs, err)
		}

		tests := []struct {
			name, key, code, method string
			want                    apperr.Kind
			wantKey                 string
		}{
			{"granted GET", plain, "ho-tich", "GET", 0, ""},
			{"HEAD rides on GET", plain, "ho-tich", "HEAD", 0, ""},
			{"granted POST", plain, "ho-tich", "POST", 0, ""},
			{"method not granted", plain, "ho-tich", "DELETE", apperr.Forbidden, "exchange.method_not_granted"},
			{"no grant", plain, "khac", "GET", apperr.Forbidden, "exchange.no_grant"},
			{"unknown service", plain, "khong-co", "GET", apperr.NotFound, "exchange.service_not_found"},
			{"disabled service", plain, "tam-dung", "GET", apperr.NotFound, "exchange.service_not_found"},
			{"unknown key", "xk_" + strings.Repeat("a", 32), "ho-tich", "GET", apperr.Unauthenticated, "exchange.key_invalid"},
			{"malformed key", "hnk_abc", "ho-tich", "GET", apperr.Unauthenticated, "exchange.key_invalid"},
			{"key with the right prefix only", k.Prefix, "ho-tich", "GET", apperr.Unauthenticated, "exchange.key_invalid"},
			{"bad key says nothing of the catalogue", "xk_x", "khong-co", "GET", apperr.Unauthenticated, "exchange.key_invalid"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				gc, gd, gg, err := s.Authorize(ctx, tt.key, tt.code, tt.method)
				if tt.wantKey == "" {
					if err != nil || gc.ID != c.ID || gd.ID != svc.ID || gg.RatePerMinute != 600 {
						t.Fatalf("got %v %v %v %v, want the consumer, service and grant", gc.ID, gd.ID, gg, err)
					}
					return
				}
				var ae *apperr.Error
				if !asErr(err, &ae) || ae.Kind != tt.want || ae.Key != tt.wantKey {
					t.Fatalf("got %v, want %v %s", err, tt.want, tt.wantKey)
				}
			})
		}

		// Rotation with overlap: both keys work until the old one runs out.
		clock.Advance(time.Hour)
		newPlain, newKey, err := s.RotateKey(ctx, c.ID, 24*time.Hour)
		if err != nil || newPlain == plain {
			t.Fatalf("rotate: got %v", err)
		}
		for _, key := range []string{plain, newPlain} {
			if _, _, _, err := s.Authorize(ctx, key, "ho-tich", "GET"); err != nil {
				t.Fatalf("during overlap: got %v, want both keys accepted", err)
			}
		}
		clock.Advance(24 * time.Hour)
		if _, _, _, err := s.Authorize(ctx, plain, "ho-tich", "GET"); !apperr.Is(err, apperr.Unauthenticated) {
			t.Fatalf("old key after overlap: got %v, want Unauthenticated", err)
		}
		if _, _, _, err := s.Authorize(ctx, newPlain, "ho-tich", "GET"); err != nil {
			t.Fatalf("new key after overlap: got %v", err)
		}
		keys, err := s.Keys(ctx, c.ID)
		if err != nil || len(keys) != 2 || keys[0].ID != newKey.ID || !keys[0].ExpiresAt.IsZero() || keys[1].ExpiresAt.IsZero() {
			t.Fatalf("keys: got %+v, %v", keys, err)
		}
		if err := s.RevokeKey(ctx, newKey.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeKey(ctx, newKey.ID); err != nil {
			t.Fatalf("revoke twice: got %v, want nil", err)
		}
		if _, _, _, err := s.Authorize(ctx, newPlain, "ho-tich", "GET"); !apperr.Is(err, apperr.Unauthenticated) {
			t.Fatalf("revoked key: got %v, want Unauthenticated", err)
		}
		if err := s.RevokeKey(ctx, "xk_none"); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("revoke unknown key: got %v, want NotFound", err)
		}
		if err := s.Revoke(ctx, c.ID, svc.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.Revoke(ctx, c.ID, svc.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("revoke missing grant: got %v, want NotFound", err)
		}
		_ = other

		// The audit trail names every change and never holds a secret.
		entries, err := audit.List(ctx, d, audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		actions := map[string]int{}
		for _, e := range entries {
			actions[e.Action]++
			for _, p := range e.DetailPairs() {
				if strings.Contains(p.Value, plain[len(k.Prefix):]) || strings.Contains(p.Value, newPlain[len(newKey.Prefix):]) {
					t.Fatalf("audit entry %s holds a key secret: %v", e.Action, p)
				}
			}
		}
		for _, a := range []string{"exchange.consumer.create", "exchange.key.issue", "exchange.key.rotate", "exchange.key.revoke",
			"exchange.grant.set", "exchange.grant.revoke"} {
			if actions[a] == 0 {
				t.Errorf("audit: no %s entry in %v", a, actions)
			}
		}
		if actions["exchange.key.revoke"] != 1 {
			t.Errorf("audit: got %d key revocations, want 1 (the second changed nothing)", actions["exchange.key.revoke"])
		}
		if rep, err := audit.Verify(ctx, d); err != nil || rep.Problem != nil {
			t.Fatalf("audit verify: got %+v, %v", rep, err)
		}
	})
}

// fieldOf is the key err gives the field, if it is an invalid-input error.
func fieldOf(err error, field string) string {
	var e *apperr.Error
	if errors.As(err, &e) {
		return e.Field[field]
	}
	return ""
}
