// Package workday computes the deadlines of administrative-procedure dossiers
// (hồ sơ thủ tục hành chính) in Vietnamese working days.
//
// It is pure: no I/O, no clock, no database. The caller loads the overrides an
// administrator edited, builds a [Calendar] once with [New] and shares it; a
// Calendar is immutable and safe for concurrent use.
//
// Days are civil days in Vietnam (UTC+7 all year): [DayOf] gives the day of any
// instant, [Day.Time] its first instant. Lunar dates follow the Vietnamese lunar
// calendar, computed for UTC+7 ([ToLunar], [FromLunar]).
//
// # Working days
//
// A working day is a Monday to Friday that is not a day off, or a day an
// override makes a working day. Unless an override says otherwise, the days off
// of a year are:
//
//   - the public holidays of the Labour Code 2019, art. 112: Tết Dương lịch
//     (1/1); Tết Nguyên đán, five days: the last day of the old lunar year and
//     lunar 1/1 to 4/1; Giỗ Tổ Hùng Vương (lunar 10/3); Ngày Chiến thắng (30/4);
//     Ngày Quốc tế Lao động (1/5); Quốc khánh (2/9 and the day before, 1/9);
//   - compensatory days (nghỉ bù): for each public holiday on a Saturday or a
//     Sunday, the next Monday to Friday that is not already off (this rule can
//     be switched off with [WithCompensatory]);
//   - overrides, one per date, from the administrator: [DayOff] (a bridge day,
//     the Tết days the Government announced, a new holiday) or [WorkDay] (a day
//     worked even though it is a weekend or a default holiday, such as a
//     Saturday worked in exchange for a bridge day). Overrides always win;
//     compensatory days are computed from the defaults alone.
//
// # Deadlines
//
//   - Counting starts on the first working day after the day the dossier is
//     received; the day of receipt is never counted, even when it is a working
//     day. A dossier with a processing time of n working days is due on the
//     n-th working day after the day of receipt ([Calendar.AddWorkingDays]) and
//     is on time if it is finished before the end of that day (23:59:59 in
//     Vietnam).
//   - While the agency waits for the applicant to supplement the dossier (a
//     pause), the clock stops: the due day moves later by the number of working
//     days after the day of the request, up to and including the day of the
//     supplement. A request and a supplement on the same day move nothing; a
//     request on Monday and a supplement on Wednesday move the due day two
//     working days. Pauses add up; overlapping pauses count once. A request
//     made after the due day has passed does not stop the clock: the dossier is
//     already overdue.
//   - While a pause is open the due day is not known yet and the dossier cannot
//     become overdue. A pause still open when the dossier is finished ends then.
//   - A dossier is overdue when it is finished, or still unfinished, after the
//     end of its due day. Its delay is the number of working days after the due
//     day up to and including the day it was finished (or today); it is 0 on a
//     day off just after the due day.
//   - An unfinished dossier is due soon when its due day is today or one of the
//     next N working days (N = 1 by default: today or the next working day; see
//     [WithDueSoon]).
//   - Each working day counted for a dossier is charged to exactly one holder:
//     the one holding it at the end of that day, or, on the last day, at the
//     moment the dossier was finished (or looked at). The day of a handover
//     goes to the receiver. Days inside pauses, and days before the first step,
//     are charged to nobody. Days after the due day are late days of their
//     holder ([Calendar.Attribute]).
package workday
