package adminunit_test

import (
	"testing"

	"hopnhat/internal/adminunit"
	"hopnhat/internal/adminunit/refdata/refdatatest"
)

// mixedSet is a realistic mix: noisy legacy addresses with and without their
// district, and clean new-form ones.
func mixedSet(x *adminunit.Index) []string {
	var out []string
	for i, set := range [][]testCase{legacyCases(x, 7, true), legacyCases(x, 8, false), newCases(x)} {
		for j, tc := range set {
			if j%(i+1) == 0 {
				out = append(out, tc.addr)
			}
		}
	}
	return out
}

func BenchmarkConvertAddress(b *testing.B) {
	x := refdatatest.Index(b)
	addrs := mixedSet(x)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		x.Convert(addrs[i%len(addrs)], adminunit.Options{})
		i++
	}
}

func BenchmarkConvertAddressParallel(b *testing.B) {
	x := refdatatest.Index(b)
	addrs := mixedSet(x)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			x.Convert(addrs[i%len(addrs)], adminunit.Options{})
			i++
		}
	})
}

// BenchmarkLoadIndex builds the index from the register, as a server does at
// start; it reports the heap the index holds.
func BenchmarkLoadIndex(b *testing.B) {
	reg := refdatatest.Register(b)
	b.ReportAllocs()
	var x *adminunit.Index
	for b.Loop() {
		var err error
		if x, err = adminunit.NewIndex(reg); err != nil {
			b.Fatal(err)
		}
	}
	_ = x
}

func FuzzConvertAddress(f *testing.F) {
	x := refdatatest.Index(f)
	for _, s := range []string{
		"Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội", "12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM", "p3 q tan binh hcm",
		"TP HCM, Quận 1, Phường Bến Nghé", "", ",,,", "P.", "Phöôøng 3, Quaän 5", "Ph\xadêng BÕn NghÐ", "\xff\xfe\x00",
		"Q1 Q1 Q1 Q1 Q1 Q1 Q1 Q1", "Xã Liên Hà H.Đan Phượng HN", "Phường Sài Gòn, Thành phố Hồ Chí Minh, Việt Nam 700000",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := x.Convert(s, adminunit.Options{})
		if r.Input != s {
			t.Fatalf("input not kept: %q", r.Input)
		}
		switch r.Status {
		case adminunit.StatusExact:
			if _, ok := x.Unit(adminunit.LevelWard, r.WardCode); !ok {
				t.Fatalf("exact without a ward: %+v", r)
			}
		case adminunit.StatusSplit, adminunit.StatusAmbiguous:
			if len(r.Candidates) < 2 && r.Status == adminunit.StatusSplit {
				t.Fatalf("split with fewer than two candidates: %+v", r)
			}
		case adminunit.StatusNotFound:
			if r.Reason == "" {
				t.Fatalf("not_found without a reason: %+v", r)
			}
		default:
			t.Fatalf("unknown status %q", r.Status)
		}
	})
}
