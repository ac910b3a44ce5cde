package fold

import "testing"

func TestString(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Hải Phòng", "hai phong"},
		{"  HẢI   DƯƠNG ", "hai duong"},
		{"Đặc khu Côn Đảo", "dac khu con dao"},
		{"Nguyễn Thị Ánh", "nguyen thi anh"},
		{"", ""},
		{"already plain", "already plain"},
	}
	for _, tc := range cases {
		if got := String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
