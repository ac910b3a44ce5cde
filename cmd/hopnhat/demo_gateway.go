package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"

	"hopnhat/internal/exchange"
)

// loadDemoGateway fills an empty gateway catalogue: one service served by
// this very hopnhat (public dossier tracking), so calls through /gw/ work
// at once, and services still answered by Hải Dương's legacy LGSP in the
// three cutover modes. The legacy hosts are under .example, which never
// resolves: their health checks fail, as an unreachable old LGSP's would.
func loadDemoGateway(ctx context.Context, a *app, out io.Writer) error {
	list, err := a.xchg.Services(ctx)
	if err != nil || len(list) > 0 {
		return err
	}
	self := "http://" + a.cfg.Addr + "/api/v1"
	if a.cfg.TLSCert != "" {
		self = "https://" + a.cfg.Addr + "/api/v1"
	}
	legacy := "https://lgsp.haiduong.example/"
	services := []exchange.ServiceInput{
		{Code: "tra-cuu-ho-so", Name: "Tra cứu tình trạng hồ sơ thủ tục hành chính", PrimaryURL: self, VersionLabel: "v1",
			Cutover: exchange.CutoverNew},
		{Code: "ho-tich", Name: "Đăng ký hộ tịch (khai sinh, kết hôn, khai tử)", PrimaryURL: "https://hotich.haiphong.example/api",
			BackupURL: legacy + "ho-tich", Cutover: exchange.CutoverOld, VersionLabel: "2.1"},
		{Code: "dat-dai", Name: "Cơ sở dữ liệu đất đai", PrimaryURL: "https://datdai.haiphong.example/api",
			BackupURL: legacy + "dat-dai", Cutover: exchange.CutoverShadow, VersionLabel: "1.4"},
		{Code: "van-ban", Name: "Liên thông văn bản điện tử", PrimaryURL: "https://vanban.haiphong.example/api",
			BackupURL: legacy + "van-ban", Cutover: exchange.CutoverNew, VersionLabel: "3.0"},
	}
	ids := map[string]string{}
	for _, in := range services {
		d, err := a.xchg.CreateService(ctx, in)
		if err != nil {
			return fmt.Errorf("demo gateway service %s: %w", in.Code, err)
		}
		ids[in.Code] = d.ID
	}
	type demoConsumer struct {
		name     string
		services []string
		rate     int
	}
	var key string
	for i, c := range []demoConsumer{
		{"Cổng dịch vụ công thành phố", []string{"tra-cuu-ho-so", "ho-tich", "dat-dai"}, 600},
		{"Hệ thống thông tin giải quyết TTHC (một cửa)", []string{"ho-tich", "dat-dai", "van-ban"}, 1200},
		{"Phần mềm quản lý văn bản (Hải Dương cũ)", []string{"van-ban"}, 300},
	} {
		con, err := a.xchg.CreateConsumer(ctx, exchange.ConsumerInput{Name: c.name})
		if err != nil {
			return err
		}
		for _, code := range c.services {
			if _, err := a.xchg.Grant(ctx, con.ID, ids[code], []string{"GET", "POST"}, c.rate); err != nil {
				return err
			}
		}
		if i == 0 {
			if key, _, err = a.xchg.IssueKey(ctx, con.ID); err != nil {
				return err
			}
		}
	}
	gw := cmp.Or(a.cfg.GatewayAddr, a.cfg.Addr)
	fmt.Fprintf(out, `Cổng trao đổi mẫu / demo gateway: %d dịch vụ / services. Khóa mẫu / demo key (chỉ in một lần / printed once):
  %s
  thử / try: curl -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' -d '{"code":"…","factor":"…"}' http://%s/gw/tra-cuu-ho-so/track
`, len(services), key, key, gw)
	return nil
}

// demoGatewayListening points the demo's tracking service at the address the
// server got, when it was started on port 0 (the kernel's pick, as tests do).
func demoGatewayListening(ctx context.Context, a *app, addr net.Addr) {
	d, err := a.xchg.ServiceByCode(ctx, "tra-cuu-ho-so")
	if err != nil {
		return
	}
	u, err := url.Parse(d.PrimaryURL)
	if err != nil || u.Port() != "0" {
		return
	}
	u.Host = addr.String()
	in := exchange.ServiceInput{Code: d.Code, Name: d.Name, OwnerAgencyID: d.OwnerAgencyID, VersionLabel: d.VersionLabel,
		PrimaryURL: u.String(), BackupURL: d.BackupURL, TimeoutMS: d.TimeoutMS, MaxBodyBytes: d.MaxBodyBytes, DocsURL: d.DocsURL,
		Status: d.Status, Cutover: d.Cutover, HealthPath: d.HealthPath}
	if _, err := a.xchg.UpdateService(ctx, d.ID, in, d.Version); err != nil {
		a.log.Warn("demo gateway: could not point the tracking service at the server", "err", err)
	}
}
