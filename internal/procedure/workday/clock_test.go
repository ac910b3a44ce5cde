package workday_test

import (
	"slices"
	"testing"
	"time"

	"hopnhat/internal/procedure/workday"
)

// March 2026 has no holiday: Mon 2, Tue 3, Wed 4, Thu 5, Fri 6, Sat 7, Sun 8,
// Mon 9, Tue 10, Wed 11, Thu 12, Fri 13, Sat 14, Sun 15, Mon 16, Tue 17, Wed 18.

// march returns a moment of March 2026 in Vietnam.
func march(d, hh, mm, ss int) time.Time { return ict(2026, time.March, d, hh, mm, ss) }

func TestStatus(t *testing.T) {
	plain := newCalendar(t, nil)
	// Received Mon 2/3 10:00 with 5 working days: Tue 3 (1), Wed 4 (2), Thu 5 (3),
	// Fri 6 (4), Mon 9 (5): due Monday 9/3.
	five := func(pauses ...workday.Pause) workday.Dossier {
		return workday.Dossier{Received: march(2, 10, 0, 0), WorkingDays: 5, Pauses: pauses}
	}
	finished := func(d workday.Dossier, at time.Time) workday.Dossier { d.Finished = at; return d }
	due9 := day(2026, time.March, 9)
	tests := []struct {
		name    string
		cal     *workday.Calendar
		dossier workday.Dossier
		now     time.Time
		want    workday.Status
	}{{
		// Fri 13/2: Sat 14, Sun 15; Tết 16–20/2; Sat 21, Sun 22; Mon 23 (1), Tue 24 (2), Wed 25 (3).
		name:    "received on the Friday before Tết 2026",
		dossier: workday.Dossier{Received: ict(2026, time.February, 13, 15, 30, 0), WorkingDays: 3},
		now:     ict(2026, time.February, 13, 15, 30, 0),
		want:    workday.Status{State: workday.OnTime, Due: day(2026, time.February, 25), DueKnown: true},
	}, {
		// Mon 31/8: Tue 1/9, Wed 2/9 off; Thu 3/9 (1).
		name:    "received before 2/9 and finished on its due day",
		dossier: workday.Dossier{Received: ict(2026, time.August, 31, 9, 0, 0), WorkingDays: 1, Finished: ict(2026, time.September, 3, 17, 0, 0)},
		now:     ict(2026, time.September, 4, 9, 0, 0),
		want:    workday.Status{State: workday.OnTime, Due: day(2026, time.September, 3), DueKnown: true},
	}, {
		// Sat 7/3 is not counted; Mon 9 (1). Looked at on Saturday, Monday is the next working day.
		name:    "received on a Saturday",
		dossier: workday.Dossier{Received: march(7, 15, 0, 0), WorkingDays: 1},
		now:     march(7, 15, 0, 0),
		want:    workday.Status{State: workday.DueSoon, Due: due9, DueKnown: true},
	}, {
		name:    "received at 23:59 counts from the next day",
		dossier: workday.Dossier{Received: march(2, 23, 59, 0), WorkingDays: 1},
		now:     march(2, 23, 59, 0),
		want:    workday.Status{State: workday.DueSoon, Due: day(2026, time.March, 3), DueKnown: true},
	}, {
		name:    "received at 00:00 belongs to that day",
		dossier: workday.Dossier{Received: march(3, 0, 0, 0), WorkingDays: 1},
		now:     march(3, 0, 0, 0),
		want:    workday.Status{State: workday.DueSoon, Due: day(2026, time.March, 4), DueKnown: true},
	}, {
		name:    "received at 17:00 UTC is the next day in Vietnam",
		dossier: workday.Dossier{Received: time.Date(2026, time.March, 2, 17, 0, 0, 0, time.UTC), WorkingDays: 1},
		now:     march(3, 8, 0, 0),
		want:    workday.Status{State: workday.DueSoon, Due: day(2026, time.March, 4), DueKnown: true},
	}, {
		name:    "on time on the day of receipt",
		dossier: five(),
		now:     march(2, 11, 0, 0),
		want:    workday.Status{State: workday.OnTime, Due: due9, DueKnown: true},
	}, {
		// (Thu 5, Mon 9] holds Fri 6 and Mon 9: two working days left.
		name:    "not yet due soon two working days before",
		dossier: five(),
		now:     march(5, 9, 0, 0),
		want:    workday.Status{State: workday.OnTime, Due: due9, DueKnown: true},
	}, {
		name:    "a wider due-soon window",
		cal:     newCalendar(t, nil, workday.WithDueSoon(2)),
		dossier: five(),
		now:     march(5, 9, 0, 0),
		want:    workday.Status{State: workday.DueSoon, Due: due9, DueKnown: true},
	}, {
		name:    "due soon the working day before",
		dossier: five(),
		now:     march(6, 9, 0, 0),
		want:    workday.Status{State: workday.DueSoon, Due: due9, DueKnown: true},
	}, {
		name:    "due soon on the weekend before a Monday due day",
		dossier: five(),
		now:     march(7, 9, 0, 0),
		want:    workday.Status{State: workday.DueSoon, Due: due9, DueKnown: true},
	}, {
		name:    "due soon on the due day",
		dossier: five(),
		now:     march(9, 23, 59, 59),
		want:    workday.Status{State: workday.DueSoon, Due: due9, DueKnown: true},
	}, {
		name:    "overdue at 00:00 after the due day",
		dossier: five(),
		now:     march(10, 0, 0, 0),
		want:    workday.Status{State: workday.Overdue, Due: due9, DueKnown: true, Late: 1},
	}, {
		name:    "finished at 23:59:59 of the due day is on time",
		dossier: finished(five(), march(9, 23, 59, 59)),
		now:     march(20, 9, 0, 0),
		want:    workday.Status{State: workday.OnTime, Due: due9, DueKnown: true},
	}, {
		name:    "finished at 00:00 the next day is one working day late",
		dossier: finished(five(), march(10, 0, 0, 0)),
		now:     march(20, 9, 0, 0),
		want:    workday.Status{State: workday.Overdue, Due: due9, DueKnown: true, Late: 1},
	}, {
		// Received Mon 2/3 with 4 days: due Fri 6/3. Saturday is after the due day
		// but (Fri 6, Sat 7] holds no working day.
		name:    "finished on the Saturday after a Friday due day is late by 0 working days",
		dossier: workday.Dossier{Received: march(2, 10, 0, 0), WorkingDays: 4, Finished: march(7, 9, 0, 0)},
		now:     march(20, 9, 0, 0),
		want:    workday.Status{State: workday.Overdue, Due: day(2026, time.March, 6), DueKnown: true},
	}, {
		name:    "a finish after the moment looked at is not seen",
		dossier: finished(five(), march(12, 9, 0, 0)),
		now:     march(4, 9, 0, 0),
		want:    workday.Status{State: workday.OnTime, Due: due9, DueKnown: true},
	}, {
		// (Tue 3, Tue 3] holds no day.
		name:    "a pause requested and supplemented the same day moves nothing",
		dossier: five(workday.Pause{From: march(3, 9, 0, 0), To: march(3, 15, 0, 0)}),
		now:     march(4, 9, 0, 0),
		want:    workday.Status{State: workday.OnTime, Due: due9, DueKnown: true},
	}, {
		// (Mon 9, Wed 11] = Tue 10, Wed 11: due Mon 9 + 2 = Wed 11. A request on the
		// due day still stops the clock.
		name:    "a pause from Monday to Wednesday moves two working days",
		dossier: five(workday.Pause{From: march(9, 9, 0, 0), To: march(11, 14, 0, 0)}),
		now:     march(11, 15, 0, 0),
		want:    workday.Status{State: workday.DueSoon, Due: day(2026, time.March, 11), DueKnown: true},
	}, {
		// (Fri 6, Mon 9] = Sat, Sun, Mon: one working day; due Tue 10.
		name:    "a pause over a weekend",
		dossier: five(workday.Pause{From: march(6, 16, 0, 0), To: march(9, 8, 0, 0)}),
		now:     march(9, 9, 0, 0),
		want:    workday.Status{State: workday.DueSoon, Due: day(2026, time.March, 10), DueKnown: true},
	}, {
		// (Tue 3, Wed 4] = 1 and (Fri 6, Mon 9] = 1: due Mon 9 + 2 = Wed 11.
		name: "two pauses add up",
		dossier: five(
			workday.Pause{From: march(6, 16, 0, 0), To: march(9, 8, 0, 0)},
			workday.Pause{From: march(3, 9, 0, 0), To: march(4, 10, 0, 0)},
		),
		now:  march(9, 9, 0, 0),
		want: workday.Status{State: workday.OnTime, Due: day(2026, time.March, 11), DueKnown: true},
	}, {
		// The second pause counts from Thu 5 09:00, when the first ended:
		// (Tue 3, Thu 5] = 2 and (Thu 5, Fri 6] = 1: due Mon 9 + 3 = Thu 12.
		name: "overlapping pauses count once",
		dossier: five(
			workday.Pause{From: march(3, 9, 0, 0), To: march(5, 9, 0, 0)},
			workday.Pause{From: march(4, 9, 0, 0), To: march(6, 9, 0, 0)},
		),
		now:  march(9, 9, 0, 0),
		want: workday.Status{State: workday.OnTime, Due: day(2026, time.March, 12), DueKnown: true},
	}, {
		// Still paused on Fri 13, after the due day it had: not overdue. If the
		// supplement came today, (Wed 4, Fri 13] = 7 days would move Mon 9 to Wed 18.
		name:    "an open pause: due day unknown, not overdue",
		dossier: five(workday.Pause{From: march(4, 10, 0, 0)}),
		now:     march(13, 10, 0, 0),
		want:    workday.Status{State: workday.Paused, Due: day(2026, time.March, 18)},
	}, {
		name:    "a pause requested after the moment looked at is not seen",
		dossier: five(workday.Pause{From: march(9, 9, 0, 0), To: march(11, 14, 0, 0)}),
		now:     march(6, 9, 0, 0),
		want:    workday.Status{State: workday.DueSoon, Due: due9, DueKnown: true},
	}, {
		// (Wed 4, Thu 12] = 6: due Mon 9 + 6 = Tue 17; finished Thu 12.
		name:    "a pause open at the finish ends there",
		dossier: finished(five(workday.Pause{From: march(4, 10, 0, 0)}), march(12, 10, 0, 0)),
		now:     march(20, 9, 0, 0),
		want:    workday.Status{State: workday.OnTime, Due: day(2026, time.March, 17), DueKnown: true},
	}, {
		// Requested Tue 10, after due day Mon 9: the clock runs on; (Mon 9, Fri 13] = 4.
		name:    "a pause requested when already overdue does not stop the clock",
		dossier: five(workday.Pause{From: march(10, 9, 0, 0), To: march(12, 9, 0, 0)}),
		now:     march(13, 9, 0, 0),
		want:    workday.Status{State: workday.Overdue, Due: due9, DueKnown: true, Late: 4},
	}, {
		name:    "an open pause requested when already overdue does not stop it either",
		dossier: five(workday.Pause{From: march(10, 9, 0, 0)}),
		now:     march(13, 9, 0, 0),
		want:    workday.Status{State: workday.Overdue, Due: due9, DueKnown: true, Late: 4},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cal := tc.cal
			if cal == nil {
				cal = plain
			}
			if got := cal.Status(tc.dossier, tc.now); got != tc.want {
				t.Errorf("Status() = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestAttribute(t *testing.T) {
	cal := newCalendar(t, nil)
	// The one-stop desk receives on Mon 2/3 and passes the dossier on Tue 3 at 10:00
	// to the land office, which passes it on Thu 12 at 16:00 to the ward's people's
	// committee, which finishes it on Fri 13 at 10:00.
	steps := []workday.Step{
		{Holder: "mot-cua", Start: march(2, 9, 0, 0), End: march(3, 10, 0, 0)},
		{Holder: "phong-tnmt", Start: march(3, 10, 0, 0), End: march(12, 16, 0, 0)},
		{Holder: "ubnd-xa", Start: march(12, 16, 0, 0), End: march(13, 10, 0, 0)},
	}
	tests := []struct {
		name    string
		dossier workday.Dossier
		now     time.Time
		want    []workday.Share
	}{{
		// Counted days: (Mon 2, Fri 13] = Tue 3 … Fri 13, 9 working days; due Mon 9.
		// Tue 3 goes to the land office, which held it at the end of the day; so do
		// Wed 4 to Wed 11 (7 days, of which Tue 10 and Wed 11 late). The committee
		// gets Thu 12, the handover day, and Fri 13: 2 days, both late.
		name:    "finished late, across two agencies",
		dossier: workday.Dossier{Received: march(2, 9, 0, 0), WorkingDays: 5, Finished: march(13, 10, 0, 0)},
		now:     march(20, 9, 0, 0),
		want: []workday.Share{
			{Holder: "mot-cua"},
			{Holder: "phong-tnmt", Days: 7, Late: 2},
			{Holder: "ubnd-xa", Days: 2, Late: 2},
		},
	}, {
		// The land office waits for a supplement from Wed 4 10:00 to Fri 6 09:00:
		// Thu 5 and Fri 6 are taken out and the due day moves to Wed 11. The office
		// holds Tue 3, Wed 4, Mon 9, Tue 10, Wed 11 (on time); the committee is late
		// on Thu 12 and Fri 13.
		name: "a pause is charged to nobody",
		dossier: workday.Dossier{Received: march(2, 9, 0, 0), WorkingDays: 5, Finished: march(13, 10, 0, 0),
			Pauses: []workday.Pause{{From: march(4, 10, 0, 0), To: march(6, 9, 0, 0)}}},
		now: march(20, 9, 0, 0),
		want: []workday.Share{
			{Holder: "mot-cua"},
			{Holder: "phong-tnmt", Days: 5},
			{Holder: "ubnd-xa", Days: 2, Late: 2},
		},
	}, {
		// Looked at on Wed 11 at noon: Tue 3 … Wed 11 are the land office's, Tue 10
		// and Wed 11 late; the committee's turn has not begun.
		name:    "unfinished, looked at while the land office holds it",
		dossier: workday.Dossier{Received: march(2, 9, 0, 0), WorkingDays: 5},
		now:     march(11, 12, 0, 0),
		want: []workday.Share{
			{Holder: "mot-cua"},
			{Holder: "phong-tnmt", Days: 7, Late: 2},
			{Holder: "ubnd-xa"},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := cal.Attribute(tc.dossier, steps, tc.now)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Attribute() = %+v, want %+v", got, tc.want)
			}
			late := 0
			for _, s := range got {
				late += s.Late
			}
			if st := cal.Status(tc.dossier, tc.now); late != st.Late {
				t.Errorf("late days of the holders add up to %d, Status().Late = %d", late, st.Late)
			}
		})
	}
}

func TestSameDayProcedure(t *testing.T) {
	c, err := workday.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	// Received online on Saturday 6/9/2025 with 0 days: due Monday 8/9, not
	// late when done that morning.
	d := workday.Dossier{Received: time.Date(2025, 9, 6, 10, 0, 0, 0, workday.Zone), WorkingDays: 0, Finished: time.Date(2025, 9, 8, 8, 0, 0, 0, workday.Zone)}
	if st := c.Status(d, d.Finished); st.Due != workday.Date(2025, 9, 8) || st.State != workday.OnTime {
		t.Fatalf("got %+v, want due 2025-09-08, on time", st)
	}
	if got := c.DueDay(workday.Date(2025, 9, 8), 0); got != workday.Date(2025, 9, 8) {
		t.Fatalf("received on a working day: due %s", got)
	}
}
