package qr

import (
	"encoding/xml"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func TestSVG(t *testing.T) {
	c, err := Encode([]byte("Hồ sơ HS-2511-7K3M-9Q2X"), M)
	if err != nil {
		t.Fatal(err)
	}
	const moduleSize, quiet = 3, 4
	out := c.SVG(moduleSize, quiet)

	type rect struct {
		Width  string `xml:"width,attr"`
		Height string `xml:"height,attr"`
		Fill   string `xml:"fill,attr"`
	}
	type path struct {
		D    string `xml:"d,attr"`
		Fill string `xml:"fill,attr"`
	}
	var doc struct {
		XMLName     xml.Name `xml:"http://www.w3.org/2000/svg svg"`
		Role        string   `xml:"role,attr"`
		Width       string   `xml:"width,attr"`
		Height      string   `xml:"height,attr"`
		ViewBox     string   `xml:"viewBox,attr"`
		ShapeRender string   `xml:"shape-rendering,attr"`
		Rect        []rect   `xml:"rect"`
		Path        []path   `xml:"path"`
	}
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not well-formed SVG: %v\n%s", err, out)
	}
	n := c.Size + 2*quiet
	px := fmt.Sprint(n * moduleSize)
	checks := []struct{ name, got, want string }{
		{"role", doc.Role, "img"},
		{"width", doc.Width, px},
		{"height", doc.Height, px},
		{"viewBox", doc.ViewBox, fmt.Sprintf("0 0 %d %d", n, n)},
		{"shape-rendering", doc.ShapeRender, "crispEdges"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.name, ch.got, ch.want)
		}
	}
	if len(doc.Rect) != 1 || doc.Rect[0].Fill != "#fff" || doc.Rect[0].Width != fmt.Sprint(n) || doc.Rect[0].Height != fmt.Sprint(n) {
		t.Errorf("background rect = %+v, want one white %d×%d", doc.Rect, n, n)
	}
	if len(doc.Path) != 1 || doc.Path[0].Fill != "#000" {
		t.Fatalf("paths = %d, want one black path", len(doc.Path))
	}

	// Paint the path back onto a grid and compare it with the modules,
	// quiet zone included: every segment one module high, no overlaps.
	painted := make([]bool, n*n)
	for _, seg := range strings.Split(strings.TrimSuffix(doc.Path[0].D, "z"), "z") {
		var x, y, w, w2 int
		if _, err := fmt.Sscanf(seg, "M%d %dh%dv1h-%d", &x, &y, &w, &w2); err != nil || w != w2 || w < 1 {
			t.Fatalf("segment %q: %v", seg, err)
		}
		for i := x; i < x+w; i++ {
			if i >= n || y >= n || painted[y*n+i] {
				t.Fatalf("segment %q overlaps or leaves the view box", seg)
			}
			painted[y*n+i] = true
		}
	}
	for y := range n {
		for x := range n {
			if want := c.Dark(x-quiet, y-quiet); painted[y*n+x] != want {
				t.Errorf("module (%d,%d): painted %v, want %v", x-quiet, y-quiet, painted[y*n+x], want)
			}
		}
	}

	golden := filepath.Join("testdata", "svg.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/platform/qr -update)", err)
	}
	if out != string(want) {
		t.Errorf("SVG differs from %s:\ngot  %s\nwant %s", golden, out, want)
	}
}

func TestSVGClampsArguments(t *testing.T) {
	c, err := Encode([]byte("a"), L)
	if err != nil {
		t.Fatal(err)
	}
	got := c.SVG(0, -3)
	if !strings.Contains(got, `width="21" height="21" viewBox="0 0 21 21"`) {
		t.Errorf("SVG(0, -3) = %.120s…, want 1px modules and no quiet zone", got)
	}
}
