package workday_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"hopnhat/internal/procedure/workday"
)

// day is a short workday.Date for the tables.
func day(y int, m time.Month, d int) workday.Day { return workday.Date(y, m, d) }

// ict returns a moment in Vietnam.
func ict(y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, time.FixedZone("ICT", 7*3600))
}

func newCalendar(tb testing.TB, overrides []workday.Override, opts ...workday.Option) *workday.Calendar {
	tb.Helper()
	c, err := workday.New(overrides, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// swap2025 returns a swapped bridge day like the one announced for
// 30/4–1/5/2025: Friday 2/5 off, worked on Saturday 26/4 instead.
func swap2025() []workday.Override {
	return []workday.Override{
		{Day: day(2025, time.April, 26), Kind: workday.WorkDay, Note: "Làm bù cho thứ Sáu 2/5"},
		{Day: day(2025, time.May, 2), Kind: workday.DayOff, Note: "Nghỉ hoán đổi, làm bù thứ Bảy 26/4"},
	}
}

func TestDay(t *testing.T) {
	d := day(2026, time.February, 17)
	if y, m, dd := d.Date(); y != 2026 || m != time.February || dd != 17 {
		t.Errorf("Date() = %d, %v, %d, want 2026, February, 17", y, m, dd)
	}
	if got := d.Weekday(); got != time.Tuesday {
		t.Errorf("Weekday() = %v, want Tuesday", got)
	}
	if got, want := d.Time(), ict(2026, time.February, 17, 0, 0, 0); !got.Equal(want) {
		t.Errorf("Time() = %v, want %v", got, want)
	}
	if got := d.String(); got != "2026-02-17" {
		t.Errorf("String() = %q, want 2026-02-17", got)
	}
	for _, tc := range []struct {
		name string
		t    time.Time
		want workday.Day
	}{
		{"midnight in Vietnam", ict(2026, time.February, 17, 0, 0, 0), d},
		{"last second in Vietnam", ict(2026, time.February, 17, 23, 59, 59), d},
		{"17:00 UTC is the next day in Vietnam", time.Date(2026, time.February, 16, 17, 0, 0, 0, time.UTC), d},
		{"16:59:59 UTC is still the day before", time.Date(2026, time.February, 16, 16, 59, 59, 0, time.UTC), d - 1},
		{"before 1970", ict(1900, time.January, 1, 0, 0, 0), day(1900, time.January, 1)},
	} {
		if got := workday.DayOf(tc.t); got != tc.want {
			t.Errorf("%s: DayOf(%v) = %s, want %s", tc.name, tc.t, got, tc.want)
		}
	}
}

func TestHolidays(t *testing.T) {
	const (
		pub  = workday.Public
		comp = workday.Compensatory
	)
	tests := []struct {
		name string
		cal  *workday.Calendar
		year int
		want []workday.Holiday
	}{{
		name: "2023: holidays on weekends get the next free weekdays",
		cal:  newCalendar(t, nil),
		year: 2023,
		want: []workday.Holiday{
			{Day: day(2023, time.January, 1), Name: "Tết Dương lịch", Kind: pub}, // Sunday
			{Day: day(2023, time.January, 2), Name: "Nghỉ bù Tết Dương lịch", Kind: comp},
			{Day: day(2023, time.January, 21), Name: "Tết Nguyên đán", Kind: pub}, // Saturday, last day of Nhâm Dần
			{Day: day(2023, time.January, 22), Name: "Tết Nguyên đán", Kind: pub}, // Sunday, 1 Tết
			{Day: day(2023, time.January, 23), Name: "Tết Nguyên đán", Kind: pub},
			{Day: day(2023, time.January, 24), Name: "Tết Nguyên đán", Kind: pub},
			{Day: day(2023, time.January, 25), Name: "Tết Nguyên đán", Kind: pub},
			{Day: day(2023, time.January, 26), Name: "Nghỉ bù Tết Nguyên đán", Kind: comp},
			{Day: day(2023, time.January, 27), Name: "Nghỉ bù Tết Nguyên đán", Kind: comp},
			{Day: day(2023, time.April, 29), Name: "Giỗ Tổ Hùng Vương", Kind: pub}, // Saturday; lunar 10/3 after a leap 2nd month
			{Day: day(2023, time.April, 30), Name: "Ngày Chiến thắng", Kind: pub},  // Sunday
			{Day: day(2023, time.May, 1), Name: "Ngày Quốc tế Lao động", Kind: pub},
			{Day: day(2023, time.May, 2), Name: "Nghỉ bù Giỗ Tổ Hùng Vương", Kind: comp},
			{Day: day(2023, time.May, 3), Name: "Nghỉ bù Ngày Chiến thắng", Kind: comp},
			{Day: day(2023, time.September, 1), Name: "Quốc khánh", Kind: pub},
			{Day: day(2023, time.September, 2), Name: "Quốc khánh", Kind: pub}, // Saturday
			{Day: day(2023, time.September, 4), Name: "Nghỉ bù Quốc khánh", Kind: comp},
		},
	}, {
		name: "2023 without compensatory days",
		cal:  newCalendar(t, nil, workday.WithCompensatory(false)),
		year: 2023,
		want: []workday.Holiday{
			{Day: day(2023, time.January, 1), Name: "Tết Dương lịch", Kind: pub},
			{Day: day(2023, time.January, 21), Name: "Tết Nguyên đán", Kind: pub},
			{Day: day(2023, time.January, 22), Name: "Tết Nguyên đán", Kind: pub},
			{Day: day(2023, time.January, 23), Name: "Tết Nguyên đán", Kind: pub},
			{Day: day(2023, time.January, 24), Name: "Tết Nguyên đán", Kind: pub},
			{Day: day(2023, time.January, 25), Name: "Tết Nguyên đán", Kind: pub},
			{Day: day(2023, time.April, 29), Name: "Giỗ Tổ Hùng Vương", Kind: pub},
			{Day: day(2023, time.April, 30), Name: "Ngày Chiến thắng", Kind: pub},
			{Day: day(2023, time.May, 1), Name: "Ngày Quốc tế Lao động", Kind: pub},
			{Day: day(2023, time.September, 1), Name: "Quốc khánh", Kind: pub},
			{Day: day(2023, time.September, 2), Name: "Quốc khánh", Kind: pub},
		},
	}, {
		name: "2026: Tết 16–20/2, Hùng Kings on a Sunday",
		cal:  newCalendar(t, nil),
		year: 2026,
		want: []workday.Holiday{
			{Day: day(2026, time.January, 1), Name: "Tết Dương lịch", Kind: pub},
			{Day: day(2026, time.February, 16), Name: "Tết Nguyên đán", Kind: pub}, // 29 tháng Chạp, last day of Ất Tỵ
			{Day: day(2026, time.February, 17), Name: "Tết Nguyên đán", Kind: pub},
			{Day: day(2026, time.February, 18), Name: "Tết Nguyên đán", Kind: pub},
			{Day: day(2026, time.February, 19), Name: "Tết Nguyên đán", Kind: pub},
			{Day: day(2026, time.February, 20), Name: "Tết Nguyên đán", Kind: pub},
			{Day: day(2026, time.April, 26), Name: "Giỗ Tổ Hùng Vương", Kind: pub}, // Sunday
			{Day: day(2026, time.April, 27), Name: "Nghỉ bù Giỗ Tổ Hùng Vương", Kind: comp},
			{Day: day(2026, time.April, 30), Name: "Ngày Chiến thắng", Kind: pub},
			{Day: day(2026, time.May, 1), Name: "Ngày Quốc tế Lao động", Kind: pub},
			{Day: day(2026, time.September, 1), Name: "Quốc khánh", Kind: pub},
			{Day: day(2026, time.September, 2), Name: "Quốc khánh", Kind: pub},
		},
	}, {
		name: "2025 with a swapped bridge day",
		cal:  newCalendar(t, swap2025()),
		year: 2025,
		want: []workday.Holiday{
			{Day: day(2025, time.January, 1), Name: "Tết Dương lịch", Kind: pub},
			{Day: day(2025, time.January, 28), Name: "Tết Nguyên đán", Kind: pub},
			{Day: day(2025, time.January, 29), Name: "Tết Nguyên đán", Kind: pub},
			{Day: day(2025, time.January, 30), Name: "Tết Nguyên đán", Kind: pub},
			{Day: day(2025, time.January, 31), Name: "Tết Nguyên đán", Kind: pub},
			{Day: day(2025, time.February, 1), Name: "Tết Nguyên đán", Kind: pub}, // Saturday
			{Day: day(2025, time.February, 3), Name: "Nghỉ bù Tết Nguyên đán", Kind: comp},
			{Day: day(2025, time.April, 7), Name: "Giỗ Tổ Hùng Vương", Kind: pub},
			{Day: day(2025, time.April, 26), Name: "Làm bù cho thứ Sáu 2/5", Kind: workday.WorkDay},
			{Day: day(2025, time.April, 30), Name: "Ngày Chiến thắng", Kind: pub},
			{Day: day(2025, time.May, 1), Name: "Ngày Quốc tế Lao động", Kind: pub},
			{Day: day(2025, time.May, 2), Name: "Nghỉ hoán đổi, làm bù thứ Bảy 26/4", Kind: workday.DayOff},
			{Day: day(2025, time.September, 1), Name: "Quốc khánh", Kind: pub},
			{Day: day(2025, time.September, 2), Name: "Quốc khánh", Kind: pub},
		},
	}, {
		name: "an override replaces a default holiday",
		cal: newCalendar(t, []workday.Override{
			{Day: day(2026, time.September, 1), Kind: workday.WorkDay, Note: "Làm việc, nghỉ 3/9 thay"},
			{Day: day(2026, time.September, 3), Kind: workday.DayOff, Note: "Quốc khánh"},
		}),
		year: 2026,
		want: []workday.Holiday{
			{Day: day(2026, time.January, 1), Name: "Tết Dương lịch", Kind: pub},
			{Day: day(2026, time.February, 16), Name: "Tết Nguyên đán", Kind: pub},
			{Day: day(2026, time.February, 17), Name: "Tết Nguyên đán", Kind: pub},
			{Day: day(2026, time.February, 18), Name: "Tết Nguyên đán", Kind: pub},
			{Day: day(2026, time.February, 19), Name: "Tết Nguyên đán", Kind: pub},
			{Day: day(2026, time.February, 20), Name: "Tết Nguyên đán", Kind: pub},
			{Day: day(2026, time.April, 26), Name: "Giỗ Tổ Hùng Vương", Kind: pub},
			{Day: day(2026, time.April, 27), Name: "Nghỉ bù Giỗ Tổ Hùng Vương", Kind: comp},
			{Day: day(2026, time.April, 30), Name: "Ngày Chiến thắng", Kind: pub},
			{Day: day(2026, time.May, 1), Name: "Ngày Quốc tế Lao động", Kind: pub},
			{Day: day(2026, time.September, 1), Name: "Làm việc, nghỉ 3/9 thay", Kind: workday.WorkDay},
			{Day: day(2026, time.September, 2), Name: "Quốc khánh", Kind: pub},
			{Day: day(2026, time.September, 3), Name: "Quốc khánh", Kind: workday.DayOff},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.cal.Holidays(tc.year)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Holidays(%d):\ngot  %v\nwant %v", tc.year, got, tc.want)
			}
			for _, h := range got {
				if work := tc.cal.IsWorkingDay(h.Day); work != (h.Kind == workday.WorkDay) {
					t.Errorf("IsWorkingDay(%s) = %v for %+v", h.Day, work, h)
				}
			}
		})
	}
}

func TestHolidaysReturnsACopy(t *testing.T) {
	cal := newCalendar(t, nil)
	cal.Holidays(2026)[0].Name = "changed"
	if got := cal.Holidays(2026)[0].Name; got != "Tết Dương lịch" {
		t.Errorf("Holidays(2026)[0].Name = %q after changing a copy, want Tết Dương lịch", got)
	}
}

func TestIsWorkingDay(t *testing.T) {
	cal := newCalendar(t, swap2025())
	tests := []struct {
		name string
		day  workday.Day
		want bool
	}{
		{"plain Friday", day(2026, time.March, 6), true},
		{"plain Saturday", day(2026, time.March, 7), false},
		{"plain Sunday", day(2026, time.March, 8), false},
		{"last day of the lunar year", day(2026, time.February, 16), false},
		{"4 Tết", day(2026, time.February, 20), false},
		{"5 Tết is worked", day(2026, time.February, 23), true},
		{"compensatory Monday", day(2023, time.January, 2), false},
		{"Saturday worked by override", day(2025, time.April, 26), true},
		{"Friday off by override", day(2025, time.May, 2), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := cal.IsWorkingDay(tc.day); got != tc.want {
				t.Errorf("IsWorkingDay(%s) = %v, want %v", tc.day, got, tc.want)
			}
		})
	}
}

func TestAddWorkingDays(t *testing.T) {
	plain := newCalendar(t, nil)
	noComp := newCalendar(t, nil, workday.WithCompensatory(false))
	swapped := newCalendar(t, swap2025())
	tests := []struct {
		name string
		cal  *workday.Calendar
		from workday.Day
		n    int
		want workday.Day
	}{
		// Fri 13/2: Sat 14, Sun 15 weekend; 16–20/2 Tết; Sat 21, Sun 22 weekend;
		// Mon 23 (1), Tue 24 (2), Wed 25 (3).
		{"across Tết 2026", plain, day(2026, time.February, 13), 3, day(2026, time.February, 25)},
		{"first working day after Tết 2026", plain, day(2026, time.February, 13), 1, day(2026, time.February, 23)},
		// Fri 24/4: Sat 25; Sun 26 Hùng Kings; Mon 27 compensatory; Tue 28 (1), Wed 29 (2);
		// Thu 30/4, Fri 1/5 holidays; Sat 2, Sun 3; Mon 4/5 (3).
		{"across Hùng Kings on a Sunday and 30/4–1/5", plain, day(2026, time.April, 24), 3, day(2026, time.May, 4)},
		// Wed 29/4: Thu 30/4, Fri 1/5 off; Sat 2, Sun 3; Mon 4/5 (1), Tue 5/5 (2).
		{"across 30/4–1/5", plain, day(2026, time.April, 29), 2, day(2026, time.May, 5)},
		// Mon 31/8: Tue 1/9, Wed 2/9 off; Thu 3/9 (1).
		{"across 2/9", plain, day(2026, time.August, 31), 1, day(2026, time.September, 3)},
		// Fri 30/12/2022: Sat 31; Sun 1/1 Tết Dương lịch; Mon 2/1 nghỉ bù; Tue 3/1 (1).
		{"holiday on a Sunday gives a compensatory Monday", plain, day(2022, time.December, 30), 1, day(2023, time.January, 3)},
		{"without compensatory days the Monday is worked", noComp, day(2022, time.December, 30), 1, day(2023, time.January, 2)},
		// Thu 24/4/2025: Fri 25 (1), Sat 26 worked (2), Sun 27, Mon 28 (3).
		{"Saturday worked by override", swapped, day(2025, time.April, 24), 3, day(2025, time.April, 28)},
		// Thu 24/4/2025: Fri 25 (1), Mon 28 (2), Tue 29 (3).
		{"same without the override", plain, day(2025, time.April, 24), 3, day(2025, time.April, 29)},
		// Tue 29/4/2025: Wed 30/4, Thu 1/5 holidays, Fri 2/5 off by override;
		// Sat 3, Sun 4; Mon 5/5 (1), Tue 6/5 (2).
		{"day off by override", swapped, day(2025, time.April, 29), 2, day(2025, time.May, 6)},
		{"same without the override", plain, day(2025, time.April, 29), 2, day(2025, time.May, 5)},
		{"zero days from a Saturday is that Saturday", plain, day(2026, time.March, 7), 0, day(2026, time.March, 7)},
		{"one day from a Saturday is Monday", plain, day(2026, time.March, 7), 1, day(2026, time.March, 9)},
		// 2026: 261 weekdays less 11 weekday holidays (1/1, 16–20/2, 27/4, 30/4, 1/5, 1–2/9).
		{"the 250 working days of 2026", plain, day(2025, time.December, 31), 250, day(2026, time.December, 31)},
		{"the next one is in 2027", plain, day(2025, time.December, 31), 251, day(2027, time.January, 4)},
		{"one back from after Tết 2026", plain, day(2026, time.February, 23), -1, day(2026, time.February, 13)},
		{"250 back across a year", plain, day(2027, time.January, 1), -250, day(2026, time.January, 2)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.cal.AddWorkingDays(tc.from, tc.n); got != tc.want {
				t.Errorf("AddWorkingDays(%s, %d) = %s, want %s", tc.from, tc.n, got, tc.want)
			}
		})
	}
}

func TestWorkingDaysBetween(t *testing.T) {
	cal := newCalendar(t, nil)
	tests := []struct {
		name string
		a, b workday.Day
		want int
	}{
		{"same day", day(2026, time.March, 2), day(2026, time.March, 2), 0},
		{"next working day", day(2026, time.March, 2), day(2026, time.March, 3), 1},
		{"Friday to Monday", day(2026, time.March, 6), day(2026, time.March, 9), 1},
		{"Tết 2026 and its weekends", day(2026, time.February, 14), day(2026, time.February, 22), 0},
		{"across Tết 2026", day(2026, time.February, 13), day(2026, time.February, 25), 3},
		{"backwards is negative", day(2026, time.February, 25), day(2026, time.February, 13), -3},
		{"the year 2026", day(2025, time.December, 31), day(2026, time.December, 31), 250},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := cal.WorkingDaysBetween(tc.a, tc.b); got != tc.want {
				t.Errorf("WorkingDaysBetween(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func TestNewRejectsInvalidOverrides(t *testing.T) {
	tests := []struct {
		name      string
		overrides []workday.Override
	}{
		{"no kind", []workday.Override{{Day: day(2026, time.May, 4)}}},
		{"a kind an override cannot have", []workday.Override{{Day: day(2026, time.May, 4), Kind: workday.Public}}},
		{"one date twice", []workday.Override{
			{Day: day(2026, time.May, 4), Kind: workday.DayOff},
			{Day: day(2026, time.May, 4), Kind: workday.WorkDay},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := workday.New(tc.overrides); !errors.Is(err, workday.ErrInvalidOverride) {
				t.Errorf("New() error = %v, want ErrInvalidOverride", err)
			}
		})
	}
}

// TestConcurrentUse fills the year cache from many goroutines; run with -race.
func TestConcurrentUse(t *testing.T) {
	shared := newCalendar(t, swap2025())
	from := day(2020, time.January, 1)
	var wg sync.WaitGroup
	got := make([]workday.Day, 16)
	for g := range got {
		wg.Go(func() {
			for i := range 40 { // each goroutine walks the years in its own order
				shared.IsWorkingDay(from + workday.Day(((g*7+i)%40)*180))
			}
			got[g] = shared.AddWorkingDays(from, 2000)
		})
	}
	wg.Wait()
	want := newCalendar(t, swap2025()).AddWorkingDays(from, 2000)
	for g, d := range got {
		if d != want {
			t.Errorf("goroutine %d: AddWorkingDays(%s, 2000) = %s, want %s", g, from, d, want)
		}
	}
}

// FuzzAddWorkingDays checks that AddWorkingDays and WorkingDaysBetween undo
// each other, and agree with counting day by day, over 1900–2199 with random
// overrides.
func FuzzAddWorkingDays(f *testing.F) {
	f.Add(uint32(46_064), uint16(3), uint64(0), false) // 13/2/2026
	f.Add(uint32(0), uint16(400), uint64(7), true)
	f.Add(uint32(109_000), uint16(251), uint64(42), false)
	first := day(1900, time.January, 1)
	span := uint32(day(2200, time.January, 1) - first)
	f.Fuzz(func(t *testing.T, start uint32, n uint16, seed uint64, noComp bool) {
		from := first + workday.Day(start%span)
		k := int(n % 401)
		rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		var overrides []workday.Override
		seen := map[workday.Day]bool{}
		for range rng.IntN(40) {
			d := from + workday.Day(rng.IntN(900)-200)
			if seen[d] {
				continue
			}
			seen[d] = true
			kind := workday.DayOff
			if rng.IntN(2) == 0 {
				kind = workday.WorkDay
			}
			overrides = append(overrides, workday.Override{Day: d, Kind: kind, Note: "fuzz"})
		}
		cal := newCalendar(t, overrides, workday.WithCompensatory(!noComp))

		to := cal.AddWorkingDays(from, k)
		if got := cal.WorkingDaysBetween(from, to); got != k {
			t.Fatalf("WorkingDaysBetween(%s, AddWorkingDays(%s, %d) = %s) = %d", from, from, k, to, got)
		}
		if got := cal.WorkingDaysBetween(to, from); got != -k {
			t.Fatalf("WorkingDaysBetween(%s, %s) = %d, want %d", to, from, got, -k)
		}
		want, left := from, k
		for left > 0 {
			if want++; cal.IsWorkingDay(want) {
				left--
			}
		}
		if to != want {
			t.Fatalf("AddWorkingDays(%s, %d) = %s, counting day by day gives %s", from, k, to, want)
		}
		if k == 0 {
			return
		}
		back := cal.AddWorkingDays(from, -k)
		wantBack := k - 1 // (back, from] holds k-1 working days before from, and from if it is one
		if cal.IsWorkingDay(from) {
			wantBack++
		}
		if !cal.IsWorkingDay(back) || back >= from {
			t.Fatalf("AddWorkingDays(%s, %d) = %s, not a working day before it", from, -k, back)
		}
		if got := cal.WorkingDaysBetween(back, from); got != wantBack {
			t.Fatalf("WorkingDaysBetween(%s, %s) = %d, want %d", back, from, got, wantBack)
		}
	})
}

func BenchmarkAddWorkingDays(b *testing.B) {
	cal := newCalendar(b, nil)
	from := day(2026, time.February, 13)
	cal.AddWorkingDays(from, 15) // compute the year once, as a running server has
	b.ReportAllocs()
	for b.Loop() {
		cal.AddWorkingDays(from, 15)
	}
}

func BenchmarkIsWorkingDay(b *testing.B) {
	cal := newCalendar(b, nil)
	first := day(2026, time.January, 1)
	cal.IsWorkingDay(first)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		cal.IsWorkingDay(first + workday.Day(i%365))
		i++
	}
}
