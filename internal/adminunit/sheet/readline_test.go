package sheet

import (
	"bufio"
	"slices"
	"strings"
	"testing"
)

// readLine must give exactly the lines of the input, whatever their length
// relative to the reader's buffer.
func FuzzAddressReadLine(f *testing.F) {
	for _, s := range []string{"", "\n", "a", "a\r\nb", "\n\n", "Phường Phúc Xá\r\n\xff\xfe\n", strings.Repeat("x", 40) + "\ny"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want []string
		if s != "" {
			want = strings.Split(strings.TrimSuffix(s, "\n"), "\n")
			for i := range want {
				want[i] = strings.TrimSuffix(want[i], "\r")
			}
		}
		br := bufio.NewReaderSize(strings.NewReader(s), 16)
		var got []string
		var buf []byte
		for {
			line, ok, err := readLine(br, buf)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			got = append(got, string(line))
			buf = line[:0]
		}
		if !slices.Equal(got, want) {
			t.Errorf("lines of %q: got %q, want %q", s, got, want)
		}
	})
}
