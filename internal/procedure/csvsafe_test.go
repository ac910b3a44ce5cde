package procedure

import "testing"

func TestCSVFormulaGuard(t *testing.T) {
	for _, v := range []string{"=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "Đăng ký khai sinh", "", "'quoted", "50.000 đồng"} {
		safe := csvSafe(v)
		if safe != "" && (safe[0] == '=' || safe[0] == '+' || safe[0] == '-' || safe[0] == '@') {
			t.Errorf("csvSafe(%q) = %q still starts a formula", v, safe)
		}
		if back := csvUnsafe(safe); back != v {
			t.Errorf("round trip of %q: got %q", v, back)
		}
	}
}
