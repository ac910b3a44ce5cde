package procedure

import (
	"context"
	"crypto/subtle"
	"time"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/procedure/workday"
)

// Tracking is what a citizen sees of a dossier: where it is, never who
// applied or what they gave.
type Tracking struct {
	Code       string
	Procedure  string
	Status     Status
	State      workday.State
	ReceivedAt time.Time
	Due        workday.Day
	DueKnown   bool
	FinishedAt time.Time
	ReturnedAt time.Time
	Steps      []TrackStep
}

// TrackStep is a step as the public sees it.
type TrackStep struct {
	Action Action
	Status Status
	At     time.Time
	Agency string // the holding agency's name
	Note   string // shown for supplement requests and rejections only: they tell the applicant what to do
}

// Track finds a dossier by its code (or an old one) and a second factor, the
// last four digits of the applicant's phone or citizen ID. An unknown code
// and a wrong factor give the same answer, so codes cannot be probed.
func (s *Service) Track(ctx context.Context, code, factor string) (Tracking, error) {
	notFound := apperr.New(apperr.NotFound, "procedure.track_not_found")
	factor = digitsOnly(factor)
	if len(factor) != 4 {
		return Tracking{}, apperr.InvalidFields(map[string]string{"factor": "procedure.track_factor_invalid"})
	}
	id, err := s.idByCode(ctx, code)
	if apperr.Is(err, apperr.NotFound) {
		return Tracking{}, notFound
	}
	if err != nil {
		return Tracking{}, err
	}
	d, err := s.get(ctx, s.db, id)
	if err != nil {
		return Tracking{}, err
	}
	match := 0
	for _, v := range []string{digitsOnly(d.Phone), d.CitizenID} {
		if len(v) >= 4 {
			match |= subtle.ConstantTimeCompare([]byte(v[len(v)-4:]), []byte(factor))
		}
	}
	if match != 1 {
		return Tracking{}, notFound
	}
	p, err := s.Procedure(ctx, d.ProcedureID)
	if err != nil {
		return Tracking{}, err
	}
	st, err := s.Steps(ctx, d.ID)
	if err != nil {
		return Tracking{}, err
	}
	c, err := s.ClockOf(ctx, d, st)
	if err != nil {
		return Tracking{}, err
	}
	t := Tracking{Code: d.Code, Procedure: p.Name, Status: d.Status, State: c.State, ReceivedAt: d.ReceivedAt, Due: c.Due,
		DueKnown: c.DueKnown, FinishedAt: d.FinishedAt, ReturnedAt: d.ReturnedAt}
	names := map[string]string{}
	for _, x := range st {
		name, ok := names[x.AgencyID]
		if !ok {
			if a, err := s.agencies.Agency(ctx, x.AgencyID); err == nil {
				name = a.Name
			}
			names[x.AgencyID] = name
		}
		ts := TrackStep{Action: x.Action, Status: x.Status, At: x.At, Agency: name}
		if x.Action == ActRequest || x.Action == ActReject {
			ts.Note = x.Note
		}
		t.Steps = append(t.Steps, ts)
	}
	return t, nil
}
