package adminunit_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"hopnhat/internal/adminunit"
)

func TestConvert(t *testing.T) {
	x := official(t)
	tests := []struct {
		name, addr string
		opt        adminunit.Options
		status     adminunit.Status
		ward       string
		rule       adminunit.Rule
		street     string
		candidates []string
		reason     string
		decoded    string
	}{
		{name: "full legacy address", addr: "Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội", status: "exact", ward: "00097", rule: "exact"},
		{name: "abbreviations and alias", addr: "12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM", status: "exact", ward: "26740", rule: "alias", street: "12 Lê Lợi"},
		{name: "no diacritics, no commas", addr: "123 le loi p ben nghe q1 tphcm", status: "exact", ward: "26740", street: "123 le loi"},
		{name: "province first", addr: "TP HCM, Quận 1, Phường Bến Nghé, 12 Lê Lợi", status: "exact", ward: "26740", street: "12 Lê Lợi"},
		{name: "numbered ward P3", addr: "P3, Q.Tân Bình, HCM", status: "exact", ward: "26977"},
		{name: "numbered ward P.03 upper case", addr: "P.03, QUẬN TÂN BÌNH, TP. HỒ CHÍ MINH", status: "exact", ward: "26977"},
		{name: "new-form address", addr: "Phường Sài Gòn, Thành phố Hồ Chí Minh", status: "exact", ward: "26740", rule: "exact"},
		{name: "type word glued to the province", addr: "Xã Hạ Mỗ H.Đan Phượng HN", status: "exact", ward: "09817"},
		{name: "small typo", addr: "Phuong Phuc Xaa, Quan Ba Dinh, Ha Noi", status: "exact", ward: "00097", rule: "typo"},
		{name: "country and postcode", addr: "Phường Phúc Xá, Ba Đình, Hà Nội, Việt Nam 100000", status: "exact", ward: "00097"},
		{name: "a ward's name before its rename", addr: "Xã Xá Nhè, Huyện Tủa Chùa, Tỉnh Điện Biên", status: "exact", ward: "03244", rule: "alias"},
		{name: "typo in the type word", addr: "Phuờg Phúc Xá, Quận Ba Đình, Hà Nội", status: "exact", ward: "00097"},
		{name: "province first, no commas, no diacritics", addr: "tinh ha tinh cam xuyen xa cam thach 97 3 tran hung dao", status: "exact", ward: "18739", street: "97 3 tran hung dao"},
		{name: "no ward read inside the province's name", addr: "Ấp Bình Hòa xã Phưc Tân Tỉnh Bà Rịa - Vũng Tàu", opt: adminunit.Options{Form: adminunit.FormLegacy},
			status: "exact", ward: "26620", rule: "typo", street: "Ấp Bình Hòa"},
		{name: "divided ward gives every part", addr: "Phường Dương Nội, Quận Hà Đông, Hà Nội", status: "split", candidates: []string{"09877", "00637", "09886", "00634"}},
		{name: "numbered ward without district", addr: "Phường 3, Hồ Chí Minh", status: "ambiguous", reason: "ward_in_several_districts"},
		{name: "names differing only in diacritics", addr: "Xã Văn Lăng, Tỉnh Thái Nguyên", status: "exact", ward: "05665"},
		{name: "province only", addr: "Hà Nội", status: "not_found", reason: "no_ward"},
		{name: "province twice is not a typo of a ward", addr: "Hà Nội, Hà Nội", status: "not_found", reason: "no_ward"},
		{name: "a district alone gives no ward", addr: "huyện An Dương, Hải Phòng", status: "not_found", reason: "no_ward"},
		{name: "island district became a special zone", addr: "huyện Côn Đảo, Bà Rịa - Vũng Tàu", status: "exact", ward: "26732"},
		{name: "island district, other province", addr: "Huyện Bạch Long Vĩ, TP Hải Phòng", status: "exact", ward: "11948"},
		{name: "postcode after the province", addr: "Phường Bến Nghé, TP. Hồ Chí Minh, 700000", status: "exact", ward: "26740", street: "-"},
		{name: "country after the street", addr: "Hồ Chí Minh, Quận 1, Phường Bến Nghé, 12 Lê Lợi, Việt Nam", status: "exact", ward: "26740", street: "12 Lê Lợi"},
		{name: "country first", addr: "Việt Nam, Hồ Chí Minh, Quận 1, Phường Bến Nghé", status: "exact", ward: "26740", street: "-"},
		{name: "nothing known", addr: "abc xyz", status: "not_found", reason: "no_unit"},
		{name: "empty", addr: "   ", status: "not_found", reason: "empty"},
		{name: "too long", addr: strings.Repeat("Phường Phúc Xá ", 100), status: "not_found", reason: "too_long"},
		{name: "invalid UTF-8", addr: "\xff\xfe Ph\x80ường", status: "not_found"},
		{name: "TCVN3 (ABC font) text", addr: "Sè 5 Lª Lîi, Ph­êng BÕn NghÐ, QuËn 1, TP. Hå ChÝ Minh", status: "exact", ward: "26740", decoded: "tcvn3"},
		{name: "VNI font text", addr: "Phöôøng Beán Ngheù, Quaän 1, TP. Hoà Chí Minh", status: "exact", ward: "26740", decoded: "vni"},
		{name: "Unicode with Latin-1 letters stays Unicode", addr: "Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh", status: "exact", ward: "26740", decoded: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := x.Convert(tc.addr, tc.opt)
			if r.Status != tc.status || r.WardCode != tc.ward {
				t.Fatalf("got %s %q (%+v), want %s %q", r.Status, r.WardCode, r, tc.status, tc.ward)
			}
			if tc.rule != "" && r.Rule != tc.rule {
				t.Errorf("rule: got %q, want %q", r.Rule, tc.rule)
			}
			if tc.street == "-" && r.Street != "" {
				t.Errorf("street: got %q, want none", r.Street)
			}
			if tc.street != "" && tc.street != "-" && r.Street != tc.street {
				t.Errorf("street: got %q, want %q", r.Street, tc.street)
			}
			if tc.candidates != nil && !sameSet(r.Candidates, tc.candidates) {
				t.Errorf("candidates: got %v, want %v", r.Candidates, tc.candidates)
			}
			if tc.reason != "" && r.Reason != tc.reason {
				t.Errorf("reason: got %q, want %q", r.Reason, tc.reason)
			}
			if r.Input != tc.addr {
				t.Errorf("input not kept")
			}
			if r.Decoded != tc.decoded {
				t.Errorf("decoded: got %q, want %q", r.Decoded, tc.decoded)
			}
		})
	}
}

func TestStreetRules(t *testing.T) {
	x := official(t)
	addr := "Số 5 đường Lê Văn Lương, Phường Dương Nội, Quận Hà Đông, Hà Nội"
	r := x.Convert(addr, adminunit.Options{})
	if r.Status != adminunit.StatusSplit || r.WardCode != "" {
		t.Fatalf("before the rule: got %+v, want split and undecided", r)
	}
	y, err := x.WithRules([]adminunit.StreetRule{{LegacyWard: r.LegacyWardCode, StreetKey: adminunit.StreetKey(r.Street), Ward: "00637"}})
	if err != nil {
		t.Fatal(err)
	}
	r = y.Convert("12 Le Van Luong, P Duong Noi, Q Ha Dong, HN", adminunit.Options{})
	if r.WardCode != "00637" || r.Rule != adminunit.RuleStreet || r.Status != adminunit.StatusSplit {
		t.Fatalf("with the rule: got %+v, want 00637 by street_rule", r)
	}
	if _, err := x.WithRules([]adminunit.StreetRule{{LegacyWard: r.LegacyWardCode, StreetKey: "x", Ward: "00097"}}); err == nil {
		t.Fatal("a rule naming a ward that got no part of the legacy ward was accepted")
	}
}

func TestCodeReuse(t *testing.T) {
	x := official(t)
	before, _ := x.CodeAt("26740", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	after, _ := x.CodeAt("26740", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if before == nil || after == nil || before.Name != "Phường Bến Nghé" || after.Name != "Phường Sài Gòn" {
		t.Fatalf("26740: got %v then %v, want Bến Nghé then Sài Gòn", before, after)
	}
	preds := x.Predecessors(adminunit.LevelWard, "26740")
	var names []string
	for _, p := range preds {
		names = append(names, p.Unit.Name)
	}
	if !slices.Contains(names, "Phường Bến Nghé") || len(preds) < 2 {
		t.Fatalf("Sài Gòn made of %v", names)
	}
	if got := x.Search("ben nghe", nil, 5); len(got) == 0 || got[0].Name != "Phường Bến Nghé" {
		t.Fatalf("search without diacritics: got %v", got)
	}
}

func TestStreetKey(t *testing.T) {
	for in, want := range map[string]string{
		"Số 12 đường Lê Lợi": "le loi", "45 Le Loi": "le loi", "123/4 Nguyễn Huệ": "nguyen hue", "Thôn Đông": "thon dong", "": "",
	} {
		if got := adminunit.StreetKey(in); got != want {
			t.Errorf("StreetKey(%q) = %q, want %q", in, got, want)
		}
	}
}
