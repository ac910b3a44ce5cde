package qr

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/bits"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// zbarimg returns the path of zbarimg (apt-get install -y zbar-tools). Without
// it the test is skipped, or fails under HOPNHAT_REQUIRE_ALL=1 as in CI.
func zbarimg(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("zbarimg")
	if err == nil {
		return p
	}
	reason := "zbarimg not found, QR codes not decoded by a real reader (apt-get install -y zbar-tools)"
	if os.Getenv("HOPNHAT_REQUIRE_ALL") == "1" {
		t.Fatalf("HOPNHAT_REQUIRE_ALL=1 but %s", reason)
	}
	t.Skip(reason)
	return ""
}

// writePNG draws the modules 4 pixels each with a 4-module quiet zone; flip
// lists modules drawn in the wrong colour, to damage the symbol on purpose.
func writePNG(t *testing.T, c *Code, flip map[[2]int]bool) string {
	t.Helper()
	const scale, quiet = 4, 4
	n := (c.Size + 2*quiet) * scale
	img := image.NewGray(image.Rect(0, 0, n, n))
	for py := range n {
		for px := range n {
			x, y := px/scale-quiet, py/scale-quiet
			if c.Dark(x, y) != flip[[2]int{x, y}] {
				img.SetGray(px, py, color.Gray{})
			} else {
				img.SetGray(px, py, color.Gray{Y: 255})
			}
		}
	}
	f, err := os.CreateTemp(t.TempDir(), "qr-*.png")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// decode runs zbarimg on the image and returns what it read. With binary
// the bytes come out as stored; without, zbar guesses the character set and
// converts to UTF-8 the way phone scanners do.
func decode(bin, file string, binary bool) ([]byte, error) {
	args := []string{"--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"}
	if binary {
		args = append(args, "-Sbinary")
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, append(args, file)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		// Exit status 4 means no symbol found.
		return nil, fmt.Errorf("zbarimg %s: %v %s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return stdout.Bytes(), nil
}

func TestZbarDecodes(t *testing.T) {
	bin := zbarimg(t)
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	long := receiptURL + "&ref=" + strings.Repeat("0123456789", 14)[:200-len(receiptURL)-5]
	cases := []struct {
		name string
		data string
	}{
		{name: "one byte", data: "a"},
		{name: "receipt URL", data: receiptURL},
		{name: "Vietnamese UTF-8", data: "Hồ sơ HS-2511-7K3M-9Q2X"},
		{name: "200-byte URL", data: long},
		{name: "every byte value", data: string(all)},
	}
	if len(long) != 200 {
		t.Fatalf("long URL is %d bytes, want 200", len(long))
	}
	for _, tc := range cases {
		for l := L; l <= H; l++ {
			t.Run(fmt.Sprintf("%s at %v", tc.name, l), func(t *testing.T) {
				t.Parallel()
				c, err := Encode([]byte(tc.data), l)
				if err != nil {
					t.Fatal(err)
				}
				got, err := decode(bin, writePNG(t, c, nil), true)
				if err != nil {
					t.Fatalf("version %d mask %d: %v", c.Version, c.Mask, err)
				}
				if string(got) != tc.data {
					t.Errorf("got %q, want %q", got, tc.data)
				}
			})
		}
	}
	t.Run("Vietnamese read as UTF-8 text", func(t *testing.T) {
		// No ECI header: the reader has to recognise UTF-8 by itself.
		const text = "Hồ sơ HS-2511-7K3M-9Q2X"
		c, err := Encode([]byte(text), M)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decode(bin, writePNG(t, c, nil), false)
		if err != nil {
			t.Fatal(err)
		}
		if s := strings.TrimSuffix(string(got), "\n"); s != text {
			t.Errorf("got %q, want %q", s, text)
		}
	})
}

func TestZbarDecodesEveryVersion(t *testing.T) {
	bin := zbarimg(t)
	r := rand.New(rand.NewPCG(7, 8))
	for v := 1; v <= 40; v++ {
		for l := L; l <= H; l++ {
			// Full to the last data codeword, so every block is used.
			data := make([]byte, byteCapacity(v, l))
			for i := range data {
				data[i] = byte(r.IntN(256))
			}
			t.Run(fmt.Sprintf("%d-%v", v, l), func(t *testing.T) {
				t.Parallel()
				c, err := Encode(data, l)
				if err != nil {
					t.Fatal(err)
				}
				if c.Version != v {
					t.Fatalf("version %d, want %d", c.Version, v)
				}
				got, err := decode(bin, writePNG(t, c, nil), true)
				if err != nil {
					t.Fatalf("mask %d: %v", c.Mask, err)
				}
				if !bytes.Equal(got, data) {
					t.Errorf("decoded %d bytes differ from the %d encoded", len(got), len(data))
				}
			})
		}
	}
}

func TestZbarDecodesEveryMask(t *testing.T) {
	bin := zbarimg(t)
	for _, data := range []string{"Hồ sơ HS-2511-7K3M-9Q2X", receiptURL + "&" + strings.Repeat("z", 120)} {
		c, err := Encode([]byte(data), M)
		if err != nil {
			t.Fatal(err)
		}
		for p := range 8 {
			t.Run(fmt.Sprintf("version %d mask %d", c.Version, p), func(t *testing.T) {
				t.Parallel()
				got, err := decode(bin, writePNG(t, withMask(c, p), nil), true)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != data {
					t.Errorf("got %q, want %q", got, data)
				}
			})
		}
	}
}

// farWord returns a word of n bits at least 4 bits away from every valid
// word, so a reader cannot correct it into one and must use the other copy.
func farWord(valid []uint32, n int) uint32 {
	for w := uint32(0); w < 1<<n; w++ {
		if bits.OnesCount32(w) < n/3 {
			continue // not mostly light, which could look like a missing copy
		}
		ok := true
		for _, v := range valid {
			ok = ok && bits.OnesCount32(w^v) >= 4
		}
		if ok {
			return w
		}
	}
	panic("no far word")
}

func TestZbarReadsSecondCopies(t *testing.T) {
	bin := zbarimg(t)
	var formats, versions []uint32
	for l := L; l <= H; l++ {
		for p := range 8 {
			formats = append(formats, formatBits(l, p))
		}
	}
	for v := 7; v <= 40; v++ {
		versions = append(versions, versionBits(v))
	}
	badFormat, badVersion := farWord(formats, 15), farWord(versions, 18)

	// overwrite records the flips that make the modules at pos read as w,
	// bit 0 first.
	overwrite := func(c *Code, flip map[[2]int]bool, pos [][2]int, w uint32) {
		for i, p := range pos {
			flip[p] = c.Dark(p[0], p[1]) != (w>>i&1 != 0)
		}
	}
	for _, v := range []int{1, 2, 7, 21, 40} {
		for l := L; l <= H; l++ {
			t.Run(fmt.Sprintf("%d-%v", v, l), func(t *testing.T) {
				t.Parallel()
				c, err := Encode(make([]byte, byteCapacity(v, l)), l)
				if err != nil {
					t.Fatal(err)
				}
				s := c.Size
				format1 := [][2]int{{8, 0}, {8, 1}, {8, 2}, {8, 3}, {8, 4}, {8, 5}, {8, 7}, {8, 8},
					{7, 8}, {5, 8}, {4, 8}, {3, 8}, {2, 8}, {1, 8}, {0, 8}}
				var format2, version1, version2 [][2]int
				for i := range 15 {
					if i < 8 {
						format2 = append(format2, [2]int{s - 1 - i, 8})
					} else {
						format2 = append(format2, [2]int{8, s - 15 + i})
					}
				}
				for i := range 18 {
					version1 = append(version1, [2]int{s - 11 + i%3, i / 3})
					version2 = append(version2, [2]int{i / 3, s - 11 + i%3})
				}
				type damage struct {
					pos [][2]int
					w   uint32
				}
				type scenario struct {
					name     string
					damage   []damage
					readable bool
				}
				cases := []scenario{
					{"format next to the top-left finder unreadable", []damage{{format1, badFormat}}, true},
					{"both format copies unreadable", []damage{{format1, badFormat}, {format2, badFormat}}, false},
				}
				if v >= 7 {
					cases = append(cases, []scenario{
						{"version above the top-right finder unreadable", []damage{{version1, badVersion}}, true},
						{"version left of the bottom-left finder unreadable", []damage{{version2, badVersion}}, true},
						{"both version copies unreadable", []damage{{version1, badVersion}, {version2, badVersion}}, false},
					}...)
				}
				for _, tc := range cases {
					flip := map[[2]int]bool{}
					for _, d := range tc.damage {
						overwrite(c, flip, d.pos, d.w)
					}
					got, err := decode(bin, writePNG(t, c, flip), true)
					switch {
					case tc.readable && err != nil:
						t.Errorf("%s: %v", tc.name, err)
					case tc.readable && len(got) != byteCapacity(v, l):
						t.Errorf("%s: decoded %d bytes, want %d", tc.name, len(got), byteCapacity(v, l))
					case !tc.readable && err == nil:
						// The reader found the information elsewhere: then the
						// readable cases prove nothing.
						t.Errorf("%s: still decoded", tc.name)
					}
				}
			})
		}
	}
}
