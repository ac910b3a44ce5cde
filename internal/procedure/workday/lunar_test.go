package workday_test

import (
	"testing"
	"time"

	"hopnhat/internal/procedure/workday"
)

func TestLunarKnownDates(t *testing.T) {
	tests := []struct {
		name  string
		solar workday.Day
		lunar workday.LunarDate
	}{
		{"Tết 2020", workday.Date(2020, time.January, 25), workday.LunarDate{Year: 2020, Month: 1, Day: 1}},
		{"Tết 2021", workday.Date(2021, time.February, 12), workday.LunarDate{Year: 2021, Month: 1, Day: 1}},
		{"Tết 2022", workday.Date(2022, time.February, 1), workday.LunarDate{Year: 2022, Month: 1, Day: 1}},
		{"Tết 2023", workday.Date(2023, time.January, 22), workday.LunarDate{Year: 2023, Month: 1, Day: 1}},
		{"Tết 2024", workday.Date(2024, time.February, 10), workday.LunarDate{Year: 2024, Month: 1, Day: 1}},
		{"Tết 2025", workday.Date(2025, time.January, 29), workday.LunarDate{Year: 2025, Month: 1, Day: 1}},
		{"Tết 2026", workday.Date(2026, time.February, 17), workday.LunarDate{Year: 2026, Month: 1, Day: 1}},
		{"Tết 2027", workday.Date(2027, time.February, 6), workday.LunarDate{Year: 2027, Month: 1, Day: 1}},
		{"Tết 2028", workday.Date(2028, time.January, 26), workday.LunarDate{Year: 2028, Month: 1, Day: 1}},
		{"Tết 2029", workday.Date(2029, time.February, 13), workday.LunarDate{Year: 2029, Month: 1, Day: 1}},
		// The new moon of 2/2/2030 falls at 23:07 in Vietnam, 00:07 on the 3rd in China:
		// Tết Canh Tuất is 2/2/2030 in Vietnam, 3/2/2030 in China.
		{"Tết 2030", workday.Date(2030, time.February, 2), workday.LunarDate{Year: 2030, Month: 1, Day: 1}},
		{"China's Tết 2030 is 2 Tết in Vietnam", workday.Date(2030, time.February, 3), workday.LunarDate{Year: 2030, Month: 1, Day: 2}},
		// At UTC+7 the new moon of 21/1/1985 opens month 1; China (UTC+8) had Tết on 20/2/1985.
		{"Tết 1985 in Vietnam", workday.Date(1985, time.January, 21), workday.LunarDate{Year: 1985, Month: 1, Day: 1}},
		{"China's Tết 1985 is 1/2 in Vietnam", workday.Date(1985, time.February, 20), workday.LunarDate{Year: 1985, Month: 2, Day: 1}},
		// The new moon of 17/2/2007 fell at 23:14 in Vietnam, 00:14 on the 18th in China.
		{"Tết 2007", workday.Date(2007, time.February, 17), workday.LunarDate{Year: 2007, Month: 1, Day: 1}},
		{"Hùng Kings 2024", workday.Date(2024, time.April, 18), workday.LunarDate{Year: 2024, Month: 3, Day: 10}},
		{"Hùng Kings 2025", workday.Date(2025, time.April, 7), workday.LunarDate{Year: 2025, Month: 3, Day: 10}},
		{"Hùng Kings 2026", workday.Date(2026, time.April, 26), workday.LunarDate{Year: 2026, Month: 3, Day: 10}},
		{"leap 2nd month 2023", workday.Date(2023, time.March, 22), workday.LunarDate{Year: 2023, Month: 2, Day: 1, Leap: true}},
		{"2nd month 2023 before the leap one", workday.Date(2023, time.February, 20), workday.LunarDate{Year: 2023, Month: 2, Day: 1}},
		{"leap 6th month 2025", workday.Date(2025, time.July, 25), workday.LunarDate{Year: 2025, Month: 6, Day: 1, Leap: true}},
		{"last day of Ất Tỵ", workday.Date(2026, time.February, 16), workday.LunarDate{Year: 2025, Month: 12, Day: 29}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := workday.ToLunar(tc.solar); got != tc.lunar {
				t.Errorf("ToLunar(%s) = %+v, want %+v", tc.solar, got, tc.lunar)
			}
			if got, ok := workday.FromLunar(tc.lunar); !ok || got != tc.solar {
				t.Errorf("FromLunar(%+v) = %s, %v, want %s, true", tc.lunar, got, ok, tc.solar)
			}
		})
	}
}

func TestFromLunarMissingDates(t *testing.T) {
	tests := []struct {
		name  string
		lunar workday.LunarDate
	}{
		{"no leap month that year", workday.LunarDate{Year: 2024, Month: 6, Day: 1, Leap: true}},
		{"12th month of Ất Tỵ has 29 days", workday.LunarDate{Year: 2025, Month: 12, Day: 30}},
		{"month 13", workday.LunarDate{Year: 2025, Month: 13, Day: 1}},
		{"day 0", workday.LunarDate{Year: 2025, Month: 1, Day: 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, ok := workday.FromLunar(tc.lunar); ok {
				t.Errorf("FromLunar(%+v) = %s, true, want false", tc.lunar, got)
			}
		})
	}
}

// TestLunarEveryDay converts every day of 1900–2199 there and back, and checks
// that the lunar dates follow each other: the next day, or day 1 of the next
// month after a month of 29 or 30 days; a leap month repeats the month before.
func TestLunarEveryDay(t *testing.T) {
	end := workday.Date(2200, time.January, 1)
	prev := workday.ToLunar(workday.Date(1899, time.December, 31))
	for d := workday.Date(1900, time.January, 1); d < end; d++ {
		l := workday.ToLunar(d)
		if back, ok := workday.FromLunar(l); !ok || back != d {
			t.Fatalf("FromLunar(ToLunar(%s) = %+v) = %s, %v, want %s, true", d, l, back, ok, d)
		}
		next := l.Day == prev.Day+1 && l.Month == prev.Month && l.Leap == prev.Leap && l.Year == prev.Year
		newMonth := l.Day == 1 && (prev.Day == 29 || prev.Day == 30) &&
			(l.Leap && l.Month == prev.Month && l.Year == prev.Year && !prev.Leap ||
				!l.Leap && l.Month == prev.Month%12+1 && l.Year == prev.Year+prev.Month/12)
		if !next && !newMonth {
			t.Fatalf("%s is %+v after %+v", d, l, prev)
		}
		prev = l
	}
}
