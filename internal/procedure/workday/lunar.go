package workday

import (
	"math"
	"time"
)

// LunarDate is a date of the Vietnamese lunar calendar (âm lịch).
type LunarDate struct {
	Year  int  // the Gregorian year in which the lunar year begins
	Month int  // 1 to 12
	Day   int  // 1 to 30
	Leap  bool // the month is the leap month (tháng nhuận) repeating Month
}

// The lunar calendar is computed from series for the Sun and the Moon
// (J. Meeus), which place the new moons of 1900–2199 within a few minutes.
// Months begin on the day, in UTC+7, of a new moon; the 11th month contains the
// winter solstice; in a year of 13 months the first month after the 11th
// without a major solar term (the Sun entering a multiple of 30°) is the leap
// month.
const (
	synodicMonth = 29.530588853      // mean length of a lunar month, days
	newMoon1900  = 2415021.076998695 // Julian date of new moon number 0 (1 January 1900)
	zone         = 7.0 / 24          // UTC+7 as a fraction of a day
	unixJDN      = 2440588           // Julian day number of 1 January 1970
	radian       = math.Pi / 180
)

// newMoon returns the Julian date (UT) of new moon number k, counted from
// newMoon1900.
func newMoon(k int) float64 {
	fk := float64(k)
	t := fk / 1236.85 // Julian centuries since 1900
	t2, t3 := t*t, t*t*t
	mean := 2415020.75933 + 29.53058868*fk + 0.0001178*t2 - 0.000000155*t3 +
		0.00033*math.Sin((166.56+132.87*t-0.009173*t2)*radian)
	sun := (359.2242 + 29.10535608*fk - 0.0000333*t2 - 0.00000347*t3) * radian   // Sun's mean anomaly
	moon := (306.0253 + 385.81691806*fk + 0.0107306*t2 + 0.00001236*t3) * radian // Moon's mean anomaly
	lat := (21.2964 + 390.67050646*fk - 0.0016528*t2 - 0.00000239*t3) * radian   // Moon's argument of latitude
	corr := (0.1734-0.000393*t)*math.Sin(sun) + 0.0021*math.Sin(2*sun) -
		0.4068*math.Sin(moon) + 0.0161*math.Sin(2*moon) - 0.0004*math.Sin(3*moon) +
		0.0104*math.Sin(2*lat) - 0.0051*math.Sin(sun+moon) - 0.0074*math.Sin(sun-moon) +
		0.0004*math.Sin(2*lat+sun) - 0.0004*math.Sin(2*lat-sun) - 0.0006*math.Sin(2*lat+moon) +
		0.0010*math.Sin(2*lat-moon) + 0.0005*math.Sin(sun+2*moon)
	// ΔT, the lag of Earth's rotation (UT) behind uniform time (TT), in days.
	deltaT := -0.000278 + 0.000265*t + 0.000262*t2
	if t < -11 {
		deltaT = 0.001 + 0.000839*t + 0.0002261*t2 - 0.00000845*t3 - 0.000000081*t*t3
	}
	return mean + corr - deltaT
}

// newMoonDay returns the Julian day number of the day, in Vietnam, of new moon k.
func newMoonDay(k int) int {
	return int(math.Floor(newMoon(k) + 0.5 + zone))
}

// sunLongitude returns the Sun's mean ecliptic longitude, in radians in
// [0, 2π), at Julian date jd (UT).
func sunLongitude(jd float64) float64 {
	t := (jd - 2451545) / 36525 // Julian centuries since J2000
	t2 := t * t
	anomaly := (357.52910 + 35999.05030*t - 0.0001559*t2 - 0.00000048*t*t2) * radian
	mean := 280.46645 + 36000.76983*t + 0.0003032*t2
	centre := (1.914600-0.004817*t-0.000014*t2)*math.Sin(anomaly) +
		(0.019993-0.000101*t)*math.Sin(2*anomaly) + 0.000290*math.Sin(3*anomaly)
	l := math.Mod((mean+centre)*radian, 2*math.Pi)
	if l < 0 {
		l += 2 * math.Pi
	}
	return l
}

// sunSector returns in which 30° sector of the ecliptic the Sun is at 00:00,
// Vietnam time, of Julian day number jdn: 0 for 0°–30° (spring), 9 for
// 270°–300° (from the winter solstice).
func sunSector(jdn int) int {
	return int(sunLongitude(float64(jdn)-0.5-zone) / (math.Pi / 6))
}

// month11 returns the Julian day number of the first day of the lunar month
// that contains the winter solstice of Gregorian year y.
func month11(y int) int {
	dec31 := int(Date(y, time.December, 31)) + unixJDN
	k := int(math.Floor(float64(dec31-2415021) / synodicMonth))
	start := newMoonDay(k)
	if sunSector(start) >= 9 { // the solstice came before this new moon
		start = newMoonDay(k - 1)
	}
	return start
}

// lunarSpan returns the months from the 11th month of lunar year y-1 to the
// 11th month of lunar year y: the Julian day number on which each begins, the
// last entry beginning the next 11th month, and the index of the leap month,
// 0 if there is none.
func lunarSpan(y int) (starts []int, leap int) {
	a, b := month11(y-1), month11(y)
	k := int(math.Round((float64(a) - newMoon1900) / synodicMonth))
	n := int(math.Round(float64(b-a) / synodicMonth)) // 12, or 13 with a leap month
	starts = make([]int, n+1)
	sectors := make([]int, n+1)
	for i := range starts {
		starts[i] = newMoonDay(k + i)
		sectors[i] = sunSector(starts[i])
	}
	if n == 13 {
		for i := 1; i < n; i++ {
			if sectors[i] == sectors[i+1] { // no major solar term in month i
				return starts, i
			}
		}
	}
	return starts, 0
}

// monthAt returns the number of the i-th month of a span and whether it is
// the leap month.
func monthAt(i, leap int) (month int, isLeap bool) {
	isLeap = leap > 0 && i == leap
	if leap > 0 && i >= leap {
		i--
	}
	return (i+10)%12 + 1, isLeap
}

// ToLunar returns the Vietnamese lunar date of d. It is meant for 1900–2199,
// where a month can begin a day earlier or later than in published tables only
// if its new moon falls within minutes of midnight in Vietnam.
func ToLunar(d Day) LunarDate {
	jdn := int(d) + unixJDN
	y, _, _ := d.Date()
	starts, leap := lunarSpan(y)
	if jdn >= starts[len(starts)-1] { // after the 11th month began: next span
		y++
		starts, leap = lunarSpan(y)
	}
	i := len(starts) - 2
	for starts[i] > jdn {
		i--
	}
	m, isLeap := monthAt(i, leap)
	if m >= 11 {
		y--
	}
	return LunarDate{Year: y, Month: m, Day: jdn - starts[i] + 1, Leap: isLeap}
}

// FromLunar returns the day of the Vietnamese lunar date l, and false if l does
// not exist (no such leap month that year, or day 30 of a 29-day month).
func FromLunar(l LunarDate) (Day, bool) {
	y := l.Year
	if l.Month >= 11 {
		y++
	}
	starts, leap := lunarSpan(y)
	for i := range len(starts) - 1 {
		if m, isLeap := monthAt(i, leap); m == l.Month && isLeap == l.Leap {
			if l.Day < 1 || l.Day > starts[i+1]-starts[i] {
				return 0, false
			}
			return Day(starts[i] + l.Day - 1 - unixJDN), true
		}
	}
	return 0, false
}
