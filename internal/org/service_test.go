package org_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"hopnhat/internal/org"
	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/audit"
	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/reqctx"
)

var modules = []db.Module{audit.Migrations, org.Migrations}

func newService(d *db.DB) *org.Service {
	return org.NewService(d, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

var ctx = reqctx.WithActor(context.Background(), "user:dieuphoi")

func mustCreate(t *testing.T, s *org.Service, in org.Input) org.Agency {
	t.Helper()
	a, err := s.Create(ctx, in)
	if err != nil {
		t.Fatalf("create %s: %v", in.Name, err)
	}
	return a
}

func TestAgenciesAndSuccessors(t *testing.T) {
	dbtest.Each(t, modules, func(t *testing.T, d *db.DB) {
		s := newService(d)
		// Hải Dương's people's committee and a district committee, dissolved.
		hd := mustCreate(t, s, org.Input{Name: "UBND tỉnh Hải Dương", Kind: org.KindProvinceCommittee, Period: org.Legacy, ProvinceCode: "30", Code: "000.00.00.H26"})
		giaLoc := mustCreate(t, s, org.Input{Name: "UBND huyện Gia Lộc", Kind: org.KindDistrictCommittee, Period: org.Legacy, ProvinceCode: "30", ParentID: hd.ID})
		stc := mustCreate(t, s, org.Input{Name: "Sở Tài chính Hải Dương", Kind: org.KindDepartment, Period: org.Legacy, ProvinceCode: "30", ParentID: hd.ID})
		// Hải Phòng, the merged city.
		hp := mustCreate(t, s, org.Input{Name: "UBND thành phố Hải Phòng", Kind: org.KindProvinceCommittee, Period: org.Current, ProvinceCode: "31", Code: "000.00.00.H31"})
		stcHP := mustCreate(t, s, org.Input{Name: "Sở Tài chính Hải Phòng", Kind: org.KindDepartment, Period: org.Current, ProvinceCode: "31", ParentID: hp.ID})
		w1 := mustCreate(t, s, org.Input{Name: "UBND xã Gia Lộc", Kind: org.KindWardCommittee, Period: org.Current, ProvinceCode: "31", WardCode: "10999", ParentID: hp.ID})
		w2 := mustCreate(t, s, org.Input{Name: "UBND xã Gia Phúc", Kind: org.KindWardCommittee, Period: org.Current, ProvinceCode: "31", WardCode: "11050", ParentID: hp.ID})

		for _, l := range []org.Link{
			{FromID: hd.ID, ToID: hp.ID, Kind: org.LinkMergedInto},
			{FromID: stc.ID, ToID: stcHP.ID, Kind: org.LinkMergedInto},
			{FromID: giaLoc.ID, ToID: w1.ID, Kind: org.LinkDissolved, Note: "nhiệm vụ chuyển về các xã"},
			{FromID: giaLoc.ID, ToID: w2.ID, Kind: org.LinkDissolved},
		} {
			if err := s.AddLink(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		now, err := s.ResponsibleNow(ctx, giaLoc.ID)
		if err != nil || len(now) != 2 {
			t.Fatalf("responsible now for Gia Lộc district: got %v, %v; want the two ward committees", now, err)
		}
		if now, _ := s.ResponsibleNow(ctx, stcHP.ID); len(now) != 1 || now[0].ID != stcHP.ID {
			t.Fatalf("a current agency answers for itself: got %v", now)
		}
		if got, err := s.ByCode(ctx, "000.00.00.h26"); err != nil || got.ID != hd.ID {
			t.Fatalf("by old code: got %v, %v", got, err)
		}
		if _, err := s.ByCode(ctx, "  "); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("blank code: got %v, want NotFound (not some agency without a code)", err)
		}
		// Saving what is already stored changes nothing, not even the version.
		same, err := s.Update(ctx, w2.ID, org.Input{Name: w2.Name, Kind: w2.Kind, Period: w2.Period, ProvinceCode: w2.ProvinceCode,
			WardCode: w2.WardCode, ParentID: w2.ParentID}, w2.Version)
		if err != nil || same.Version != w2.Version {
			t.Fatalf("no-op update: got version %d (%v), want %d", same.Version, err, w2.Version)
		}
		list, err := s.List(ctx, org.Filter{Q: "tai chinh"})
		if err != nil || len(list) != 2 {
			t.Fatalf("search without diacritics: got %d, %v", len(list), err)
		}
		preds, _ := s.Predecessors(ctx, w1.ID)
		if len(preds) != 1 || preds[0].Agency.ID != giaLoc.ID || preds[0].Note != "nhiệm vụ chuyển về các xã" {
			t.Fatalf("predecessors: got %+v", preds)
		}

		// Wrong input is refused field by field.
		for name, tc := range map[string]struct {
			err  error
			want string
		}{
			"link backwards":  {s.AddLink(ctx, org.Link{FromID: hp.ID, ToID: hd.ID, Kind: org.LinkRenamed}), "to_id"},
			"same link twice": {s.AddLink(ctx, org.Link{FromID: hd.ID, ToID: hp.ID, Kind: org.LinkMergedInto}), ""},
			"parent other side": {func() error {
				_, err := s.Create(ctx, org.Input{Name: "X", Kind: org.KindOther, Period: org.Current, ParentID: hd.ID})
				return err
			}(), "parent_id"},
			"code taken": {func() error {
				_, err := s.Create(ctx, org.Input{Name: "X", Kind: org.KindOther, Period: org.Current, Code: "000.00.00.H31"})
				return err
			}(), "code"},
			"bad code": {func() error {
				_, err := s.Create(ctx, org.Input{Name: "X", Kind: org.KindOther, Period: org.Current, Code: "h31 <b>"})
				return err
			}(), "code"},
			"no name": {func() error { _, err := s.Create(ctx, org.Input{Kind: org.KindOther, Period: org.Current}); return err }(), "name"},
			"unknown kind": {func() error {
				_, err := s.Create(ctx, org.Input{Name: "X", Kind: "ministry", Period: org.Current})
				return err
			}(), "kind"},
			"ward code 4 digits": {func() error {
				_, err := s.Create(ctx, org.Input{Name: "X", Kind: org.KindWardCommittee, Period: org.Current, WardCode: "1099"})
				return err
			}(), "ward_code"},
		} {
			var ae *apperr.Error
			if tc.err == nil {
				t.Errorf("%s: no error", name)
				continue
			}
			if tc.want == "" {
				if !apperr.Is(tc.err, apperr.Conflict) {
					t.Errorf("%s: got %v, want Conflict", name, tc.err)
				}
				continue
			}
			if !asErr(tc.err, &ae) || ae.Field[tc.want] == "" {
				t.Errorf("%s: got %v, want a %s field error", name, tc.err, tc.want)
			}
		}

		// Two coordinators: the second save with the old version is refused.
		in := org.Input{Name: "Sở Tài chính thành phố Hải Phòng", Kind: org.KindDepartment, Period: org.Current, ProvinceCode: "31", ParentID: hp.ID}
		up, err := s.Update(ctx, stcHP.ID, in, stcHP.Version)
		if err != nil || up.Version != 2 {
			t.Fatalf("update: got %v, %v", up, err)
		}
		if _, err := s.Update(ctx, stcHP.ID, in, stcHP.Version); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("stale update: got %v, want Conflict", err)
		}
		// A parent cycle is refused.
		if _, err := s.Update(ctx, hp.ID, org.Input{Name: hp.Name, Kind: hp.Kind, Period: org.Current, ParentID: w1.ID}, hp.Version); err == nil {
			t.Fatal("parent cycle accepted")
		}
		if err := s.RemoveLink(ctx, giaLoc.ID, w2.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.RemoveLink(ctx, giaLoc.ID, w2.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("removing twice: got %v", err)
		}
	})
}
