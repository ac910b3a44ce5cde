package workday

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Day is a civil day in Vietnam, counted in days since 1 January 1970. Days
// are ordered like integers: d+1 is the next day and a < b when a comes first.
type Day int

// Zone is Vietnam's time, UTC+7 all year: the zone days are counted in.
var Zone = time.FixedZone("ICT", zoneOffset)

const (
	secondsPerDay = 24 * 60 * 60
	zoneOffset    = 7 * 60 * 60 // Vietnam is UTC+7 all year, no daylight saving
)

// Date returns the day y-m-d; values out of range are normalised as by
// [time.Date] (31 April is 1 May).
func Date(y int, m time.Month, d int) Day {
	return Day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / secondsPerDay)
}

// DayOf returns the day in Vietnam that contains the instant t, whatever the
// location of t.
func DayOf(t time.Time) Day {
	s := t.Unix() + zoneOffset
	d := s / secondsPerDay
	if s%secondsPerDay < 0 {
		d--
	}
	return Day(d)
}

// Date returns the year, month and day of d.
func (d Day) Date() (year int, month time.Month, day int) {
	return time.Unix(int64(d)*secondsPerDay, 0).UTC().Date()
}

// Time returns the first instant of d, 00:00 in Vietnam, in the zone ICT
// (UTC+7). The last instant of d is d+1's Time less one nanosecond.
func (d Day) Time() time.Time {
	return d.start().In(Zone)
}

func (d Day) start() time.Time { return time.Unix(int64(d)*secondsPerDay-zoneOffset, 0) }

// Weekday returns the day of the week of d.
func (d Day) Weekday() time.Weekday {
	return time.Weekday((int(d)%7 + 11) % 7) // 1 January 1970 was a Thursday
}

// String returns d as 2006-01-02.
func (d Day) String() string {
	y, m, dd := d.Date()
	return fmt.Sprintf("%04d-%02d-%02d", y, m, dd)
}

func (d Day) weekend() bool {
	w := d.Weekday()
	return w == time.Saturday || w == time.Sunday
}

// Kind says why a day is listed in a year's calendar.
type Kind int

// The kinds of listed days. An [Override] is DayOff or WorkDay.
const (
	Public       Kind = iota + 1 // public holiday of the Labour Code
	Compensatory                 // compensatory day off (nghỉ bù) for a holiday on a weekend
	DayOff                       // override: an extra day off
	WorkDay                      // override: a day worked, even on a weekend or a holiday
)

// Override is an administrator's decision for one date; it wins over the
// default rules.
type Override struct {
	Day  Day
	Kind Kind   // DayOff or WorkDay
	Note string // shown as the day's name, e.g. "Nghỉ hoán đổi, làm bù thứ Bảy 26/4"
}

// Holiday is a day of a year's calendar that differs from a plain week: a day
// off, or a day worked by override (Kind == WorkDay).
type Holiday struct {
	Day  Day
	Name string // Vietnamese name, e.g. "Tết Nguyên đán", "Nghỉ bù Quốc khánh"; an override's Note
	Kind Kind
}

// ErrInvalidOverride is returned by [New] for an override with a kind other
// than DayOff or WorkDay, or for two overrides of one date.
var ErrInvalidOverride = errors.New("invalid working-day override")

// Option changes a default of [New].
type Option func(*config)

type config struct {
	compensatory bool
	soon         int
}

// WithCompensatory turns the compensatory-day rule on (the default) or off.
func WithCompensatory(on bool) Option { return func(c *config) { c.compensatory = on } }

// WithDueSoon sets how many working days away its due day may be for an
// unfinished dossier to be due soon: 1 (the default) when the due day is today
// or the next working day, 0 only on the due day, a negative value never.
func WithDueSoon(days int) Option { return func(c *config) { c.soon = days } }

// Calendar tells working days from days off. It is immutable and safe for
// concurrent use; each year is computed on first use and then cached, so
// lookups take constant time.
type Calendar struct {
	config
	overrides map[int][]Override // by year

	mu    sync.Mutex                    // serialises adding a year to years
	years atomic.Pointer[map[int]*year] // read without locking; replaced, never changed
}

// year is the computed calendar of one year.
type year struct {
	num   int
	first Day       // 1 January
	cum   []uint16  // cum[i]: working days among the first i days of the year
	list  []Holiday // by day
}

// New returns the calendar with the default rules and the given overrides,
// which may cover any number of years.
func New(overrides []Override, opts ...Option) (*Calendar, error) {
	c := &Calendar{config: config{compensatory: true, soon: 1}, overrides: map[int][]Override{}}
	for _, o := range opts {
		o(&c.config)
	}
	seen := make(map[Day]bool, len(overrides))
	for _, o := range overrides {
		if o.Kind != DayOff && o.Kind != WorkDay {
			return nil, fmt.Errorf("override of %s: kind %d: %w", o.Day, o.Kind, ErrInvalidOverride)
		}
		if seen[o.Day] {
			return nil, fmt.Errorf("override of %s given twice: %w", o.Day, ErrInvalidOverride)
		}
		seen[o.Day] = true
		y, _, _ := o.Day.Date()
		c.overrides[y] = append(c.overrides[y], o)
	}
	c.years.Store(&map[int]*year{})
	return c, nil
}

// IsWorkingDay reports whether d is a working day.
func (c *Calendar) IsWorkingDay(d Day) bool {
	yr, i := c.locate(d)
	return yr.cum[i+1] > yr.cum[i]
}

// Holidays returns the days of year y that differ from a plain week, by day:
// public holidays, compensatory days and overrides, including the days worked
// by override (Kind == WorkDay). A default holiday replaced by an override is
// listed as the override.
func (c *Calendar) Holidays(y int) []Holiday {
	return slices.Clone(c.year(y).list)
}

// AddWorkingDays returns the n-th working day strictly after from; from itself
// for n = 0, whether or not it is a working day. For n < 0 it returns the
// |n|-th working day strictly before from. n is meant to be a processing time:
// every year it reaches is computed and kept.
func (c *Calendar) AddWorkingDays(from Day, n int) Day {
	if n == 0 {
		return from
	}
	yr, i := c.locate(from)
	if n > 0 {
		k := int(yr.cum[i+1]) + n // rank, in its year, of the day wanted
		for k > yr.total() {
			k -= yr.total()
			yr = c.year(yr.num + 1)
		}
		return yr.nth(k)
	}
	k := int(yr.cum[i]) + n + 1
	for k < 1 {
		yr = c.year(yr.num - 1)
		k += yr.total()
	}
	return yr.nth(k)
}

// WorkingDaysBetween returns the number of working days in (a, b]: after a,
// up to and including b. It is 0 when a == b, and minus the number of working
// days in (b, a] when b < a.
func (c *Calendar) WorkingDaysBetween(a, b Day) int {
	if b < a {
		return -c.WorkingDaysBetween(b, a)
	}
	ya, ia := c.locate(a)
	yb, ib := c.locate(b)
	n := int(yb.cum[ib+1]) - int(ya.cum[ia+1])
	for y := ya.num; y < yb.num; y++ {
		n += c.year(y).total()
	}
	return n
}

func (c *Calendar) locate(d Day) (*year, int) {
	y, _, _ := d.Date()
	yr := c.year(y)
	return yr, int(d - yr.first)
}

func (c *Calendar) year(y int) *year {
	if yr, ok := (*c.years.Load())[y]; ok {
		return yr
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := *c.years.Load()
	if yr, ok := old[y]; ok {
		return yr
	}
	yr := c.build(y)
	m := maps.Clone(old)
	m[y] = yr
	c.years.Store(&m)
	return yr
}

func (c *Calendar) build(y int) *year {
	first, next := Date(y, time.January, 1), Date(y+1, time.January, 1)
	off := map[Day]Holiday{}
	for _, h := range publicHolidays(y) {
		if prev, ok := off[h.Day]; ok { // two holidays on one date give one day off
			h.Name = prev.Name + ", " + h.Name
		}
		off[h.Day] = h
	}
	if c.compensatory {
		taken := func(d Day) bool { _, ok := off[d]; return ok || d.weekend() }
		for _, d := range slices.Sorted(maps.Keys(off)) {
			if !d.weekend() {
				continue
			}
			e := d + 1
			for taken(e) {
				e++
			}
			if e < next { // no holiday falls late enough in December to spill over
				off[e] = Holiday{Day: e, Name: "Nghỉ bù " + off[d].Name, Kind: Compensatory}
			}
		}
	}
	for _, o := range c.overrides[y] {
		off[o.Day] = Holiday{Day: o.Day, Name: o.Note, Kind: o.Kind}
	}
	yr := &year{num: y, first: first, cum: make([]uint16, next-first+1)}
	for i := range next - first {
		work := !(first + i).weekend()
		if h, ok := off[first+i]; ok {
			work = h.Kind == WorkDay
		}
		yr.cum[i+1] = yr.cum[i]
		if work {
			yr.cum[i+1]++
		}
	}
	yr.list = slices.SortedFunc(maps.Values(off), func(a, b Holiday) int { return cmp.Compare(a.Day, b.Day) })
	return yr
}

func (y *year) total() int { return int(y.cum[len(y.cum)-1]) }

// nth returns the k-th working day of the year, 1 ≤ k ≤ total.
func (y *year) nth(k int) Day {
	i, _ := slices.BinarySearch(y.cum, uint16(k)) // the first i with cum[i] ≥ k
	return y.first + Day(i-1)
}

// publicHolidays returns the public holidays of year y (Labour Code 2019,
// art. 112).
func publicHolidays(y int) []Holiday {
	tet, _ := FromLunar(LunarDate{Year: y, Month: 1, Day: 1})
	hung, _ := FromLunar(LunarDate{Year: y, Month: 3, Day: 10})
	hs := []Holiday{{Date(y, time.January, 1), "Tết Dương lịch", Public}}
	for d := tet - 1; d <= tet+3; d++ { // the last day of the old year, then 1 to 4 Tết
		hs = append(hs, Holiday{d, "Tết Nguyên đán", Public})
	}
	return append(hs,
		Holiday{hung, "Giỗ Tổ Hùng Vương", Public},
		Holiday{Date(y, time.April, 30), "Ngày Chiến thắng", Public},
		Holiday{Date(y, time.May, 1), "Ngày Quốc tế Lao động", Public},
		Holiday{Date(y, time.September, 1), "Quốc khánh", Public}, // the adjacent day; the Government may pick 3/9
		Holiday{Date(y, time.September, 2), "Quốc khánh", Public},
	)
}
