package exchange

import (
	"strings"
	"testing"
)

// FuzzSplitPath checks that whatever path a caller sends, a path the gateway
// accepts stays below the service's upstream URL: the code is a catalogue
// code, and no segment climbs, repeats a slash or hides one.
func FuzzSplitPath(f *testing.F) {
	for _, s := range []string{"/gw/ho-tich/a/b", "/gw/ho-tich/", "/gw/ho-tich/%2e%2e/x", "/gw/ho-tich//evil.example/x",
		"/gw/ho-tich/a%2fb", "/gw/ho-tich/a%5cb", "/gw/../admin", "/gw/HO/a", "/gw/ho-tich/a%00", "/gw/ho-tich/%zz",
		"/gw/ho-tich/giay%20khai%20sinh?x=1", "/gw/ho-tich/.", "/gw/x/a"} {
		f.Add(s, "q=1")
	}
	const base = "https://lgsp.tinh.example/api/v2"
	f.Fuzz(func(t *testing.T, escaped, rawQuery string) {
		code, erest, rest, err := splitPath(escaped)
		if err != nil {
			return
		}
		if !codeRE.MatchString(code) {
			t.Fatalf("%q: accepted code %q", escaped, code)
		}
		for i, seg := range strings.Split(rest, "/") {
			name, _, _ := strings.Cut(seg, ";")
			if name == "." || name == ".." || strings.ContainsAny(seg, "\\\x00") {
				t.Fatalf("%q: accepted segment %d %q", escaped, i, seg)
			}
		}
		if strings.Contains(rest, "//") || strings.Contains(strings.ToLower(erest), "%2f") {
			t.Fatalf("%q: accepted rest %q (escaped %q)", escaped, rest, erest)
		}
		u, err := target(base, erest, rest, rawQuery)
		if err != nil {
			return
		}
		if u.Scheme != "https" || u.Host != "lgsp.tinh.example" || !strings.HasPrefix(u.Path, "/api/v2/") {
			t.Fatalf("%q: forwards to %s", escaped, u)
		}
		if got := u.String(); !strings.HasPrefix(got, base+"/") {
			t.Fatalf("%q: forwards to %s, outside %s", escaped, got, base)
		}
	})
}
