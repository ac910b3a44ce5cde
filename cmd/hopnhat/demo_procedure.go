package main

import (
	"context"
	"fmt"
	"io"

	"hopnhat/internal/org"
	"hopnhat/internal/procedure"
)

// demoProcedure is a procedure of the demo catalogue. The names, fields and
// processing times follow the published procedures; the codes are
// illustrative, in the national format.
type demoProcedure struct {
	code, name, field string
	level             procedure.Level
	agency            string // the department's name; "" for the ward committees'
	days              int
	fee               string
	online            procedure.Online
	papers            []string
}

var demoProcedures = []demoProcedure{
	{"1.001193.000.00.00.H31", "Đăng ký khai sinh", "Hộ tịch", procedure.LevelCommune, "", 1, "Miễn phí", procedure.OnlineFull,
		[]string{"Tờ khai đăng ký khai sinh", "Giấy chứng sinh"}},
	{"1.000894.000.00.00.H31", "Đăng ký kết hôn", "Hộ tịch", procedure.LevelCommune, "", 1, "Miễn phí", procedure.OnlinePartial,
		[]string{"Tờ khai đăng ký kết hôn", "Giấy xác nhận tình trạng hôn nhân"}},
	{"1.000656.000.00.00.H31", "Đăng ký khai tử", "Hộ tịch", procedure.LevelCommune, "", 1, "Miễn phí", procedure.OnlineFull,
		[]string{"Tờ khai đăng ký khai tử", "Giấy báo tử"}},
	{"1.004873.000.00.00.H31", "Cấp giấy xác nhận tình trạng hôn nhân", "Hộ tịch", procedure.LevelCommune, "", 3, "Miễn phí", procedure.OnlineFull,
		[]string{"Tờ khai cấp giấy xác nhận tình trạng hôn nhân"}},
	{"2.000815.000.00.00.H31", "Chứng thực bản sao từ bản chính", "Chứng thực", procedure.LevelCommune, "", 1, "2.000 đồng/trang",
		procedure.OnlineOffline, []string{"Bản chính giấy tờ", "Bản sao cần chứng thực"}},
	{"2.000720.000.00.00.H31", "Đăng ký thành lập hộ kinh doanh", "Đăng ký kinh doanh", procedure.LevelCommune, "", 3, "100.000 đồng",
		procedure.OnlineFull, []string{"Giấy đề nghị đăng ký hộ kinh doanh", "Bản sao giấy tờ pháp lý của chủ hộ"}},
	{"1.011543.000.00.00.H31", "Cấp giấy phép xây dựng nhà ở riêng lẻ", "Xây dựng", procedure.LevelCommune, "", 15, "75.000 đồng",
		procedure.OnlinePartial, []string{"Đơn đề nghị cấp giấy phép xây dựng", "Giấy tờ về quyền sử dụng đất", "Bản vẽ thiết kế"}},
	{"2.001610.000.00.00.H31", "Đăng ký thành lập doanh nghiệp tư nhân", "Đăng ký kinh doanh", procedure.LevelProvince, "Sở Tài chính", 3,
		"50.000 đồng", procedure.OnlineFull, []string{"Giấy đề nghị đăng ký doanh nghiệp", "Bản sao giấy tờ pháp lý của chủ doanh nghiệp"}},
	{"1.010932.000.00.00.H31", "Cấp giấy chứng nhận đăng ký hoạt động khoa học và công nghệ", "Khoa học và công nghệ",
		procedure.LevelProvince, "Sở Khoa học và Công nghệ", 15, "Theo quy định", procedure.OnlinePartial,
		[]string{"Đơn đăng ký hoạt động", "Điều lệ tổ chức"}},
	{"1.012391.000.00.00.H31", "Tặng Bằng khen của Chủ tịch Ủy ban nhân dân thành phố", "Thi đua, khen thưởng", procedure.LevelProvince,
		"Sở Nội vụ", 20, "Miễn phí", procedure.OnlinePartial, []string{"Tờ trình đề nghị khen thưởng", "Báo cáo thành tích"}},
	{"1.009994.000.00.00.H31", "Thẩm định, phê duyệt dự toán mua sắm tài sản công", "Quản lý công sản", procedure.LevelProvince,
		"Sở Tài chính", 10, "Miễn phí", procedure.OnlineOffline, []string{"Văn bản đề nghị", "Dự toán chi tiết"}},
	{"2.002187.000.00.00.H31", "Cấp bản sao trích lục hộ tịch", "Hộ tịch", procedure.LevelCommune, "", 1, "8.000 đồng/bản",
		procedure.OnlineFull, []string{"Tờ khai cấp bản sao trích lục"}},
}

// loadDemoProcedures fills an empty procedure system with the demo
// catalogue, a year of dossiers (generated: marked "(minh họa)" in the
// README) and a few received today, one waiting for a supplement and one
// transferred.
func loadDemoProcedures(ctx context.Context, a *app, out io.Writer) error {
	if c, err := a.procs.CountProcedures(ctx); err != nil || c.Total > 0 {
		return err
	}
	agencies, err := a.org.List(ctx, org.Filter{Period: org.Current, ProvinceCode: "31"})
	if err != nil {
		return err
	}
	var opt procedure.GenerateOptions
	byName := map[string]string{}
	for _, ag := range agencies {
		byName[ag.Name] = ag.ID
		switch {
		case ag.Kind == org.KindDepartment:
			opt.Departments = append(opt.Departments, ag.ID)
		case ag.Kind == org.KindWardCommittee && ag.WardCode != "":
			opt.Wards = append(opt.Wards, procedure.WardAgency{WardCode: ag.WardCode, AgencyID: ag.ID})
		}
	}
	if len(opt.Departments) == 0 || len(opt.Wards) == 0 {
		return nil // no agency register to hang procedures on
	}
	lechan := byName["Ủy ban nhân dân phường Lê Chân"]
	for _, d := range demoProcedures {
		owner := byName[d.agency]
		if d.agency == "" {
			owner = lechan
		}
		p, err := a.procs.CreateProcedure(ctx, procedure.Procedure{Code: d.code, Name: d.name, Field: d.field, Level: d.level,
			AgencyID: owner, Days: d.days, Fee: d.fee, Online: d.online, Papers: d.papers})
		if err != nil {
			return fmt.Errorf("demo procedure %s: %w", d.name, err)
		}
		opt.Catalogue = append(opt.Catalogue, p)
	}
	opt.Dossiers, opt.Months, opt.Seed = 3000, 12, 2025
	res, err := procedure.Generate(ctx, a.db, opt)
	if err != nil {
		return fmt.Errorf("demo dossiers: %w", err)
	}
	// Today's desk at Lê Chân: an address in the old form, converted.
	birth := opt.Catalogue[0]
	today, err := a.procs.Receive(ctx, procedure.ReceiveInput{ProcedureID: birth.ID, Channel: procedure.Desk, Applicant: "Trần Văn Minh",
		CitizenID: "031095004321", Phone: "0904 123 456", Address: "Số 12 Tô Hiệu, phường Trại Cau, quận Lê Chân, Hải Phòng",
		Papers: birth.Papers, WardCode: "11383"})
	if err != nil {
		return fmt.Errorf("demo dossier: %w", err)
	}
	build := opt.Catalogue[6]
	waiting, err := a.procs.Receive(ctx, procedure.ReceiveInput{ProcedureID: build.ID, Channel: procedure.ViaPortal, Applicant: "Phạm Thị Hoa",
		Phone: "0913 222 333", Address: "Thôn Phú Lương, xã Gia Lộc, Hải Phòng", Papers: build.Papers[:2], WardCode: "10999"})
	if err != nil {
		return fmt.Errorf("demo dossier: %w", err)
	}
	if _, err := a.procs.Act(ctx, waiting.ID, procedure.ActInput{Action: procedure.ActRequest, Note: "Bổ sung bản vẽ thiết kế có chữ ký của chủ đầu tư",
		Version: waiting.Version}); err != nil {
		return fmt.Errorf("demo supplement: %w", err)
	}
	firm := opt.Catalogue[5]
	moved, err := a.procs.Receive(ctx, procedure.ReceiveInput{ProcedureID: firm.ID, Channel: procedure.Desk, Applicant: "Lê Quang Huy",
		CitizenID: "030088001122", Phone: "0987 654 321", Papers: firm.Papers, WardCode: "10525"})
	if err != nil {
		return fmt.Errorf("demo dossier: %w", err)
	}
	if _, err := a.procs.Act(ctx, moved.ID, procedure.ActInput{Action: procedure.ActTransfer, AgencyID: byName["Sở Tài chính"],
		Note: "Quy mô vốn thuộc diện đăng ký doanh nghiệp, chuyển Sở Tài chính", Version: moved.Version}); err != nil {
		return fmt.Errorf("demo transfer: %w", err)
	}
	fmt.Fprintf(out, "thủ tục hành chính: %d thủ tục, %d hồ sơ mẫu; tra cứu thử mã %s với 4 số cuối 3456 / procedures: %d, %d sample dossiers; try tracking %s with 3456\n",
		len(opt.Catalogue), res.Dossiers+3, today.Code, len(opt.Catalogue), res.Dossiers+3, today.Code)
	return nil
}
