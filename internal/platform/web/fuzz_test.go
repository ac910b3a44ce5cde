package web

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"hopnhat/internal/platform/apperr"
)

// FuzzDecodeJSON: any body gives a value or an Invalid/TooLarge error, never a
// panic or an unclassified error (which would become a 500).
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"username":"a"}`, `{"username":`, `{} {}`, `[]`, `null`, "\xff\xfe", `{"role":5}`, `{"a":{"b":[1,2,{"c":null}]}}`, strings.Repeat("[", 10000)} {
		f.Add(s, "application/json")
	}
	f.Add(`{}`, "text/plain")
	f.Add(`{}`, "application/json; charset=utf-8")
	f.Add(`{}`, ";;;")
	f.Fuzz(func(t *testing.T, body, ct string) {
		type in struct {
			Username string         `json:"username"`
			Role     string         `json:"role"`
			Extra    map[string]any `json:"a"`
		}
		r := httptest.NewRequest("POST", "/api/x", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		var v in
		err := DecodeJSON(r, &v)
		if err != nil {
			k := apperr.KindOf(err)
			if k != apperr.Invalid && k != apperr.TooLarge {
				t.Fatalf("body %q: unclassified error %v", body, err)
			}
			if StatusOf(err) >= 500 {
				t.Fatalf("body %q: status %d", body, StatusOf(err))
			}
		}
	})
}

// FuzzParseDate: any text parses to a date or errors; never panics.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"01/07/2025", "2025-07-01", "31/02/2025", "", "1/1/1", "99/99/9999", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := ParseDate(s); err == nil && d.IsZero() {
			t.Fatalf("%q: zero date without an error", s)
		}
	})
}

// FuzzLocalPath: whatever a sign-in form carries, the redirect stays on this site.
func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/", "/users?x=1", "//evil.example", "/\\evil.example", "https://evil.example", "javascript:alert(1)", "/%2F%2Fevil", "", " /x", "\t//x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := LocalPath(next)
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.HasPrefix(got, "/\\") {
			t.Fatalf("LocalPath(%q) = %q leaves the site", next, got)
		}
	})
}
