package workday

import (
	"slices"
	"time"
)

// Dossier is what the clock needs to know about a dossier.
type Dossier struct {
	Received    time.Time
	WorkingDays int       // processing time, in working days
	Pauses      []Pause   // in any order
	Finished    time.Time // zero while not finished
}

// Pause is a wait for the applicant to supplement the dossier.
type Pause struct {
	From time.Time // the supplement was requested
	To   time.Time // the supplement arrived; zero while still waited for
}

// State is where a dossier stands against its due day.
type State int

// The states of a dossier. A finished dossier is OnTime or Overdue.
const (
	OnTime  State = iota + 1 // finished by the end of the due day, or not yet due soon
	DueSoon                  // unfinished; the due day is today or within the due-soon window
	Overdue                  // finished, or still unfinished, after the end of the due day
	Paused                   // unfinished, waiting for a supplement requested in time
)

// String returns the state in English words, for logs.
func (s State) String() string {
	switch s {
	case OnTime:
		return "on time"
	case DueSoon:
		return "due soon"
	case Overdue:
		return "overdue"
	case Paused:
		return "paused"
	}
	return "unknown"
}

// Status is a dossier's state at a moment.
type Status struct {
	State State
	// Due is the due day. While paused (DueKnown false) it is the earliest the
	// due day can be: the due day if the supplement arrived today.
	Due      Day
	DueKnown bool
	Late     int // Overdue: working days after the due day up to the day finished (or today)
}

// Step is one holder's turn with a dossier.
type Step struct {
	Holder string    // agency or officer id
	Start  time.Time // received it
	End    time.Time // passed it on or finished it; zero while holding it
}

// Share is the part of a dossier's processing time one holder is charged with.
type Share struct {
	Holder string
	Days   int // working days held, outside pauses
	Late   int // of those, days after the due day
}

// Status returns the state of dossier d at the moment now; a dossier finished
// by now is judged at its finish.
func (c *Calendar) Status(d Dossier, now time.Time) Status {
	k := c.clock(d, now)
	s := Status{Due: k.due, DueKnown: !k.paused}
	day := DayOf(k.at)
	switch {
	case k.paused:
		s.State = Paused
	case day > k.due:
		s.State, s.Late = Overdue, c.WorkingDaysBetween(k.due, day)
	case !k.finished && c.WorkingDaysBetween(day, k.due) <= c.soon:
		s.State = DueSoon
	default:
		s.State = OnTime
	}
	return s
}

// Attribute charges each working day counted for dossier d, up to its finish
// or now, to one holder, and returns a share per holder in order of first
// appearance in steps, the ordered turns of the dossier. The Late days of the
// shares add up to the Status's Late when the steps cover the whole time.
func (c *Calendar) Attribute(d Dossier, steps []Step, now time.Time) []Share {
	k := c.clock(d, now)
	var shares []Share
	index := map[string]int{}
	for _, s := range steps {
		if _, ok := index[s.Holder]; !ok {
			index[s.Holder] = len(shares)
			shares = append(shares, Share{Holder: s.Holder})
		}
	}
	last := DayOf(k.at)
	for day := k.received + 1; day <= last; day++ {
		if !c.IsWorkingDay(day) || k.stopped(day) {
			continue
		}
		at := k.at
		if day < last {
			at = (day + 1).start().Add(-time.Nanosecond)
		}
		s := holderAt(steps, at)
		if s == nil {
			continue
		}
		sh := &shares[index[s.Holder]]
		sh.Days++
		if day > k.due {
			sh.Late++
		}
	}
	return shares
}

// clock is a dossier's count of working days, seen at one moment.
type clock struct {
	received, due Day
	at            time.Time // now, or the finish if finished by now
	finished      bool
	paused        bool     // a pause is open at the moment
	stops         [][2]Day // (from, to]: the days pauses take out of the count
}

func (c *Calendar) clock(d Dossier, now time.Time) clock {
	k := clock{received: DayOf(d.Received), at: now}
	if !d.Finished.IsZero() && !d.Finished.After(now) {
		k.finished, k.at = true, d.Finished
	}
	k.due = c.DueDay(k.received, d.WorkingDays)
	pauses := slices.SortedFunc(slices.Values(d.Pauses), func(a, b Pause) int { return a.From.Compare(b.From) })
	last := d.Received // a pause counts only after receipt and after the previous pause
	for _, p := range pauses {
		if p.From.After(k.at) {
			break
		}
		from, to := p.From, p.To
		if from.Before(last) {
			from = last
		}
		open := to.IsZero() || to.After(k.at)
		if open {
			to = k.at
		}
		if to.Before(from) {
			continue
		}
		fromDay, toDay := DayOf(from), DayOf(to)
		if fromDay > k.due {
			break // requested when already overdue: the clock does not stop
		}
		k.due = c.AddWorkingDays(k.due, c.WorkingDaysBetween(fromDay, toDay))
		k.stops = append(k.stops, [2]Day{fromDay, toDay})
		k.paused = k.paused || open && !k.finished
		last = to
	}
	return k
}

func (k *clock) stopped(d Day) bool {
	for _, s := range k.stops {
		if s[0] < d && d <= s[1] {
			return true
		}
	}
	return false
}

// holderAt returns the step holding the dossier at t: the last one open at t,
// or else the last one started by t, so that a gap between two steps stays
// with the earlier holder. It returns nil before the first step.
func holderAt(steps []Step, t time.Time) *Step {
	var open, started *Step
	for i := range steps {
		s := &steps[i]
		if s.Start.After(t) {
			continue
		}
		started = s
		if s.End.IsZero() || s.End.After(t) {
			open = s
		}
	}
	if open != nil {
		return open
	}
	return started
}

// DueDay is the due day of a dossier received on day received with n
// working days: the n-th working day after it. A same-day procedure (n = 0)
// received on a day off is due on the next working day.
func (c *Calendar) DueDay(received Day, n int) Day {
	if n <= 0 {
		if c.IsWorkingDay(received) {
			return received
		}
		return c.AddWorkingDays(received, 1)
	}
	return c.AddWorkingDays(received, n)
}
