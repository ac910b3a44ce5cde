package qr

import (
	"bytes"
	"errors"
	"testing"
)

func FuzzEncode(f *testing.F) {
	f.Add([]byte(receiptURL), uint8(M))
	f.Add([]byte("Hồ sơ HS-2511-7K3M-9Q2X"), uint8(H))
	f.Add([]byte{}, uint8(L))
	f.Add(make([]byte, 272), uint8(L)) // one past version 10-L
	f.Add([]byte("x"), uint8(4))       // not a level
	f.Fuzz(func(t *testing.T, data []byte, lv uint8) {
		level := Level(lv % 5)
		c, err := Encode(data, level)
		switch {
		case level > H:
			if !errors.Is(err, ErrLevel) {
				t.Fatalf("Level(%d): got %v, want ErrLevel", level, err)
			}
			return
		case len(data) > byteCapacity(40, level):
			if !errors.Is(err, ErrTooLong) {
				t.Fatalf("%d bytes at %v: got %v, want ErrTooLong", len(data), level, err)
			}
			return
		case err != nil:
			t.Fatalf("%d bytes at %v: %v", len(data), level, err)
		}
		if c.Version < 1 || c.Version > 40 || c.Size != 17+4*c.Version {
			t.Fatalf("version %d size %d, want size %d", c.Version, c.Size, 17+4*c.Version)
		}
		if len(data) > byteCapacity(c.Version, level) || c.Version > 1 && len(data) <= byteCapacity(c.Version-1, level) {
			t.Fatalf("%d bytes at %v in version %d, not the smallest that fits", len(data), level, c.Version)
		}
		if c.Mask < 0 || c.Mask > 7 || c.Level != level {
			t.Fatalf("mask %d level %v", c.Mask, c.Level)
		}
		got, err := readBack(c)
		if err != nil {
			t.Fatalf("%d bytes at %v, version %d: %v", len(data), level, c.Version, err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("read back %q, want %q", got, data)
		}
	})
}
