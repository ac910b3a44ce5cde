package refdata_test

import (
	"errors"
	"testing"
	"testing/fstest"

	"hopnhat/internal/adminunit"
	"hopnhat/internal/adminunit/refdata"
	"hopnhat/internal/platform/apperr"
)

// small is a tiny but complete set of the five files.
func small() fstest.MapFS {
	return fstest.MapFS{
		refdata.FileLegacyDistricts: {Data: []byte("\ufeffMã,Tên,Tên Tiếng Anh,Cấp,Mã TP,Tỉnh / Thành Phố\n001,Quận Ba Đình,,Quận,01,Thành phố Hà Nội\n")},
		refdata.FileLegacyWards: {Data: []byte("\ufeffMã,Tên,Tên Tiếng Anh,Cấp,Mã QH,Quận Huyện,Mã TP,Tỉnh / Thành Phố\n" +
			"00001,Phường Phúc Xá,,Phường,001,Quận Ba Đình,01,Thành phố Hà Nội\n00004,Phường Trúc Bạch,,Phường,001,Quận Ba Đình,01,Thành phố Hà Nội\n" +
			"00007,Phường Vĩnh Phúc,,Phường,999,Quận X,01,Thành phố Hà Nội\n00004,Phường Trúc Bạch lặp,,Phường,001,Quận Ba Đình,01,Thành phố Hà Nội\n")},
		refdata.FileNewUnits: {Data: []byte("province,ward,provinceShort,wardShort,wardType,provinceCode,provinceLat,provinceLon,wardCode,wardLat,wardLon,wardAreaKm2\n" +
			"Thành phố Hà Nội,Phường Hồng Hà,Hà Nội,Hồng Hà,Phường,1,21.0,105.6,97,21.05,105.84,15.09\n" +
			"Thành phố Hà Nội,Phường Ba Đình,Hà Nội,Ba Đình,Phường,1,21.0,105.6,4,21.03,105.83,2.97\n")},
		refdata.FileProvinces: {Data: []byte("id,mahc,tentinh,dientichkm2,dansonguoi,trungtamhc,kinhdo,vido,truocsapnhap,con\n" +
			"1,1,Thủ đô Hà Nội,\"3.359,80\",8.718.000,giữ nguyên,105.698,21.0001,không sáp nhập,126 ĐVHC\n")},
		refdata.FileMapping: {Data: []byte("provinceCode,isMergedProvince,districtCode,districtType,wardCode,wardType,isMergedWard,isDividedWard,newProvinceCode,newWardCode\n" +
			"1,False,1,Quận,1.0,Phường,True,False,01,00097\n1,False,1,Quận,4.0,Phường,True,False,01,00004\n1,False,1,Quận,4.0,Phường,True,False,01,00004\n")},
	}
}

func TestLoad(t *testing.T) {
	reg, rep, err := refdata.Load(small())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep) != 5 {
		t.Fatalf("report has %d files, want 5", len(rep))
	}
	// The ward whose district is unknown and the repeated link are skipped, with reasons.
	wards, mapping := rep[1], rep[4]
	if wards.Read != 4 || wards.Loaded != 2 || len(wards.Skipped) != 2 || wards.Skipped[0].Key != "adminunit.import.unknown_district" || wards.Skipped[0].Line != 4 ||
		wards.Skipped[1].Key != "adminunit.import.duplicate_code" || wards.Skipped[1].Line != 5 {
		t.Fatalf("legacy wards: got %+v", wards)
	}
	if mapping.Loaded != 2 || len(mapping.Skipped) != 1 || mapping.Skipped[0].Key != "adminunit.import.duplicate_link" {
		t.Fatalf("mapping: got %+v", mapping)
	}
	x, err := adminunit.NewIndex(reg)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := x.Unit(adminunit.LevelProvince, "01")
	if !ok || p.Population != 8718000 || p.AreaKm2 != 3359.8 {
		t.Fatalf("province figures: got %+v", p)
	}
	if s := x.Successors(adminunit.LevelLegacyProvince, "01"); len(s) != 1 || s[0].Kind != adminunit.LinkUnchanged || s[0].Link.Basis != refdata.ProvinceBasis {
		t.Fatalf("province link: got %+v", s)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(fstest.MapFS)
		key  string
		args []any
	}{
		{"missing file", func(m fstest.MapFS) { delete(m, refdata.FileMapping) }, "adminunit.import.missing_file", []any{refdata.FileMapping}},
		{"missing column", func(m fstest.MapFS) {
			m[refdata.FileLegacyDistricts] = &fstest.MapFile{Data: []byte("Mã,Tên\n001,X\n")}
		},
			"adminunit.import.missing_column", []any{refdata.FileLegacyDistricts, "Cấp"}},
		{"broken quote", func(m fstest.MapFS) {
			m[refdata.FileLegacyDistricts] = &fstest.MapFile{Data: []byte("Mã,Tên,Tên Tiếng Anh,Cấp,Mã TP,Tỉnh / Thành Phố\n001,\"Quận,,Quận,01,X\n")}
		}, "adminunit.import.malformed", nil},
		{"not UTF-8", func(m fstest.MapFS) {
			m[refdata.FileLegacyDistricts] = &fstest.MapFile{Data: []byte("Mã,Tên,Tên Tiếng Anh,Cấp,Mã TP,Tỉnh / Thành Phố\n001,Qu\xe2n,,Quận,01,X\n")}
		}, "adminunit.import.malformed", []any{refdata.FileLegacyDistricts, 2, 5, "not UTF-8"}},
		{"empty file", func(m fstest.MapFS) { m[refdata.FileNewUnits] = &fstest.MapFile{} }, "adminunit.import.empty_file", []any{refdata.FileNewUnits}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := small()
			tc.edit(m)
			_, _, err := refdata.Load(m)
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Key != tc.key {
				t.Fatalf("got %v, want %s", err, tc.key)
			}
			if tc.args != nil && len(ae.Args) != len(tc.args) {
				t.Fatalf("args: got %v, want %v", ae.Args, tc.args)
			}
			for i := range tc.args {
				if ae.Args[i] != tc.args[i] {
					t.Fatalf("args: got %v, want %v", ae.Args, tc.args)
				}
			}
		})
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte("\ufeffMã,Tên,Tên Tiếng Anh,Cấp,Mã QH,Quận Huyện,Mã TP,Tỉnh / Thành Phố\n00001,Phường Phúc Xá,,Phường,001,Q,01,T\n"))
	f.Add([]byte("\"unterminated\n"))
	f.Add([]byte{0xff, 0xfe, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		m := small()
		m[refdata.FileLegacyWards] = &fstest.MapFile{Data: data}
		reg, rep, err := refdata.Load(m)
		if err != nil {
			var ae *apperr.Error
			if !errors.As(err, &ae) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		// Every row is loaded or skipped with a reason, never dropped.
		for _, fr := range rep {
			if fr.Loaded+len(fr.Skipped) != fr.Read {
				t.Fatalf("%s: read %d, loaded %d, skipped %d", fr.File, fr.Read, fr.Loaded, len(fr.Skipped))
			}
		}
		if _, err := adminunit.NewIndex(reg); err != nil {
			t.Fatalf("loaded register does not index: %v", err)
		}
	})
}
