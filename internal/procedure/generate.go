package procedure

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"hopnhat/internal/platform/db"
	"hopnhat/internal/procedure/workday"
)

// GenerateOptions shape the realistic data Generate writes, for load and
// scale tests.
type GenerateOptions struct {
	Dossiers   int
	Procedures int // the catalogue's size; 1,937 like the brief's province
	// Catalogue, when given, is used instead of a generated catalogue: the
	// dossiers go to these procedures, which must be stored already.
	Catalogue []Procedure
	// Departments are the merged province's agencies that answer for
	// province-level procedures; Wards pair each ward with its people's
	// committee, which answers for commune-level ones. At least one of each.
	Departments []string
	Wards       []WardAgency
	Now         time.Time
	Seed        uint64
	Months      int               // dossiers are received over this many months up to Now (18)
	Progress    func(written int) // called every 100,000 dossiers
}

// WardAgency is a ward and its people's committee.
type WardAgency struct{ WardCode, AgencyID string }

// GenerateResult counts what Generate wrote.
type GenerateResult struct {
	Procedures, Dossiers, Steps, Aliases, Open, Late int
}

// Generate fills the tables with a catalogue and dossiers as a merged
// province's would look: procedures used unevenly (a few very often), 40 %
// of dossiers received online, one in ten paused for a supplement, one in
// twenty transferred, about 7 % finished late, one in ten brought over from
// an old province's system with its old code; the recent ones still open.
// Every clock is computed by the same calendar as real dossiers, and the
// statistics tables are filled to match. It writes in bulk (COPY on
// PostgreSQL) and is meant for an empty procedure system.
func Generate(ctx context.Context, d *db.DB, opt GenerateOptions) (res GenerateResult, err error) {
	if len(opt.Departments) == 0 || len(opt.Wards) == 0 {
		return res, fmt.Errorf("generate: at least one department and one ward are needed")
	}
	if opt.Procedures <= 0 {
		opt.Procedures = 1937
	}
	if opt.Months <= 0 {
		opt.Months = 18
	}
	if opt.Now.IsZero() {
		opt.Now = d.Now()
	}
	rng := rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15))
	cal, err := workday.New(nil)
	if err != nil {
		return res, err
	}
	if n := 0; d.QueryRowContext(ctx, `SELECT COUNT(*) FROM proc_dossier`).Scan(&n) != nil || n > 0 {
		return res, fmt.Errorf("generate: the procedure system already has dossiers")
	}
	sink, err := newSink(ctx, d)
	if err != nil {
		return res, err
	}
	defer sink.close()

	// PostgreSQL loads faster without the lists' indexes, built once at
	// the end; the keys and the unique code stay to catch a mistake.
	if d.Dialect() == db.Postgres {
		rebuild, err := dropListIndexes(ctx, d)
		if err != nil {
			return res, err
		}
		defer func() {
			for _, def := range rebuild {
				if _, e := d.ExecContext(ctx, def); e != nil && err == nil {
					err = fmt.Errorf("generate: rebuild index: %w", e)
				}
			}
		}()
	}
	procs := opt.Catalogue
	if len(procs) == 0 {
		procs = genProcedures(rng, opt)
		for _, p := range procs {
			sink.add("proc_procedure", []any{p.ID, p.Code, p.Name, foldName(p), p.Field, string(p.Level), p.AgencyID, int64(p.Days), p.Fee,
				string(p.Online), strings.Join(p.Papers, "\n"), int64(1), int64(1), db.Micros(opt.Now), db.Micros(opt.Now)})
		}
		res.Procedures = len(procs)
	}
	if err := sink.flush(ctx); err != nil {
		return res, err
	}
	// A few procedures take most dossiers: weights 1/rank.
	cum := make([]float64, len(procs))
	total := 0.0
	for i := range procs {
		total += 1 / float64(i+1)
		cum[i] = total
	}
	g := generator{opt: opt, rng: rng, cal: cal, stats: map[statKey]*stat{}, procStats: map[procStatKey]*stat{}}
	for i := range opt.Dossiers {
		p := &procs[sortSearch(cum, rng.Float64()*total)]
		x, st, alias := g.dossier(i, p)
		sink.add("proc_dossier", []any{x.ID, x.Code, x.ProcedureID, x.AgencyID, x.WardCode, string(x.Channel), x.Applicant, x.CitizenID,
			x.Phone, x.Address, x.AddressWard, strings.Join(x.Papers, "\n"), string(x.Status), int64(x.Days), db.Micros(x.ReceivedAt),
			int64(x.DueDay), db.NullMicros(x.PausedAt), int64(x.PausedDays), db.NullMicros(x.FinishedAt), db.NullMicros(x.ReturnedAt),
			int64(x.LateDays), int64(1), db.Micros(x.ReceivedAt), db.Micros(x.ReceivedAt)})
		for j, s := range st {
			sink.add("proc_step", []any{x.ID, int64(j + 1), string(s.Action), string(s.Status), s.AgencyID, s.Actor, db.Micros(s.At), s.Note})
		}
		res.Steps += len(st)
		sink.add("proc_dossier_alias", []any{x.Code, x.ID}) // every code a dossier is found by
		if alias != "" {
			sink.add("proc_dossier_alias", []any{alias, x.ID})
			res.Aliases++
		}
		if x.Status.Open() {
			res.Open++
		}
		if x.LateDays > 0 || (x.FinishedAt.IsZero() && x.DueDay < int(workday.DayOf(opt.Now)) && x.PausedAt.IsZero()) {
			res.Late++
		}
		res.Dossiers++
		if sink.rows >= 60000 {
			if err := sink.flush(ctx); err != nil {
				return res, err
			}
		}
		if opt.Progress != nil && (i+1)%100000 == 0 {
			opt.Progress(i + 1)
		}
	}
	for k, v := range g.stats {
		sink.add("proc_stat_unit", []any{int64(k.month), k.agency, k.ward, string(k.channel), int64(v.received), int64(v.finished),
			int64(v.onTime), int64(v.lateDays)})
	}
	for k, v := range g.procStats {
		sink.add("proc_stat_procedure", []any{int64(k.month), k.procedure, string(k.channel), int64(v.received), int64(v.finished),
			int64(v.onTime), int64(v.lateDays)})
	}
	return res, sink.flush(ctx)
}

func sortSearch(cum []float64, x float64) int {
	i, _ := slices.BinarySearch(cum, x)
	return min(i, len(cum)-1)
}

var genFields = []string{"Hộ tịch", "Chứng thực", "Đất đai", "Xây dựng", "Đăng ký kinh doanh", "Lao động – Thương binh và Xã hội",
	"Giáo dục và Đào tạo", "Y tế", "Giao thông vận tải", "Tư pháp", "Văn hóa", "Nông nghiệp", "Tài nguyên và Môi trường", "Nội vụ"}

var genNames = []string{"Đăng ký khai sinh", "Chứng thực bản sao từ bản chính", "Cấp giấy chứng nhận quyền sử dụng đất",
	"Cấp giấy phép xây dựng nhà ở riêng lẻ", "Đăng ký hộ kinh doanh", "Đăng ký kết hôn", "Cấp phiếu lý lịch tư pháp",
	"Đăng ký khai tử", "Cấp giấy xác nhận tình trạng hôn nhân", "Đăng ký thường trú", "Cấp đổi giấy phép lái xe",
	"Đăng ký biến động đất đai", "Trợ cấp xã hội hằng tháng", "Cấp giấy phép kinh doanh rượu"}

func genProcedures(rng *rand.Rand, opt GenerateOptions) []Procedure {
	out := make([]Procedure, opt.Procedures)
	// 1,579 of 1,937 online, like the brief: about 40 % full, 41 % partial.
	for i := range out {
		p := &out[i]
		p.ID = fmt.Sprintf("tt_gen%07d", i)
		p.Code = fmt.Sprintf("%d.%06d.000.00.00.H31", 1+i%2, 100000+i)
		p.Name = fmt.Sprintf("%s (mẫu %d)", genNames[i%len(genNames)], i+1)
		p.Field = genFields[i%len(genFields)]
		p.Level = LevelProvince
		p.AgencyID = opt.Departments[i%len(opt.Departments)]
		if i%3 == 0 { // the commune's procedures, among them the busiest
			p.Level, p.AgencyID = LevelCommune, ""
		}
		p.Days = []int{1, 3, 5, 7, 10, 15, 20, 30}[rng.IntN(8)]
		p.Fee = []string{"Miễn phí", "50.000 đồng", "100.000 đồng", "Theo quy định"}[rng.IntN(4)]
		switch r := float64(i) / float64(opt.Procedures); {
		case r < 0.41:
			p.Online = OnlineFull
		case r < 0.815:
			p.Online = OnlinePartial
		default:
			p.Online = OnlineOffline
		}
		p.Papers = []string{"Tờ khai theo mẫu", "Bản sao giấy tờ tùy thân"}
		p.Active = true
	}
	return out
}

type statKey struct {
	month        int
	agency, ward string
	channel      Channel
}

type procStatKey struct {
	month     int
	procedure string
	channel   Channel
}

type generator struct {
	opt       GenerateOptions
	rng       *rand.Rand
	cal       *workday.Calendar
	stats     map[statKey]*stat
	procStats map[procStatKey]*stat
}

// bump adds to the statistics as Receive and countFinish do.
func (g *generator) bump(t time.Time, agency string, d *Dossier, s stat) {
	k := statKey{monthOf(t), agency, d.WardCode, d.Channel}
	v := g.stats[k]
	if v == nil {
		v = &stat{}
		g.stats[k] = v
	}
	v.add(s)
}

// bumpProc adds to the statistics per procedure as Receive and countFinish
// do.
func (g *generator) bumpProc(t time.Time, d *Dossier, s stat) {
	k := procStatKey{monthOf(t), d.ProcedureID, d.Channel}
	v := g.procStats[k]
	if v == nil {
		v = &stat{}
		g.procStats[k] = v
	}
	v.add(s)
}

// genCode is dossier i's code: the month, then 40 bits that a bijection
// on 40-bit numbers makes unique for every i, in the format real codes have.
func genCode(i int, received time.Time) string {
	const mask = 1<<40 - 1
	x := (uint64(i)*0x9E3779B97 + 0x5bd1e995) & mask // odd multiplier: a bijection mod 2^40
	x ^= x >> 17                                     // a bijection on 40 bits
	x = (x * 0xD6E8FEB86659FD93) & mask              // odd again
	var sb strings.Builder
	sb.WriteString("HS")
	sb.WriteString(received.In(workday.Zone).Format("0601"))
	for j := range 8 {
		if j%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(codeAlphabet[(x>>(35-5*j))&31])
	}
	return sb.String()
}

var genSurnames = []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô"}
var genGiven = []string{"Văn An", "Thị Bình", "Minh Châu", "Đức Dũng", "Thu Hà", "Quang Huy", "Thị Lan", "Hữu Nam", "Ngọc Oanh", "Thanh Tùng"}

// at is a working moment of day: 7:30 to 17:00 in Vietnam.
func (g *generator) at(day workday.Day) time.Time {
	return day.Time().Add(7*time.Hour + 30*time.Minute + time.Duration(g.rng.IntN(570))*time.Minute)
}

func (g *generator) dossier(i int, p *Procedure) (Dossier, []Step, string) {
	rng, cal, now := g.rng, g.cal, g.opt.Now
	today := workday.DayOf(now)
	span := g.opt.Months * 30
	rday := today - workday.Day(rng.IntN(span))
	channel := Desk
	switch r := rng.Float64(); {
	case r < 0.40 && p.Online != OnlineOffline:
		channel = ViaPortal
	case r > 0.95:
		channel = Post
	}
	for channel != ViaPortal && !cal.IsWorkingDay(rday) {
		rday--
	}
	received := g.at(rday)
	if channel == ViaPortal {
		received = rday.Time().Add(time.Duration(rng.IntN(24*60)) * time.Minute)
	}
	if received.After(now) {
		received = now.Add(-time.Duration(1+rng.IntN(3600)) * time.Second)
	}
	w := g.opt.Wards[rng.IntN(len(g.opt.Wards))]
	agency := p.AgencyID
	if p.Level == LevelCommune || agency == "" {
		agency = w.AgencyID
	}
	d := Dossier{ID: fmt.Sprintf("hs_gen%09d", i), Code: genCode(i, received), ProcedureID: p.ID, AgencyID: agency,
		WardCode: w.WardCode, Channel: channel, Days: p.Days, ReceivedAt: received, Status: Received,
		Applicant: genSurnames[rng.IntN(len(genSurnames))] + " " + genGiven[rng.IntN(len(genGiven))],
		CitizenID: fmt.Sprintf("031%d%02d%06d", rng.IntN(4), rng.IntN(100), rng.IntN(1000000)),
		Phone:     fmt.Sprintf("09%08d", rng.IntN(100000000)), Address: fmt.Sprintf("Số %d đường %d", 1+rng.IntN(200), 1+rng.IntN(90)),
		AddressWard: w.WardCode, Papers: p.Papers}
	actor := "user:motcua" + w.WardCode
	steps := []Step{{Action: ActReceive, Status: Received, AgencyID: agency, Actor: actor, At: received}}
	if i%10 == 3 { // brought over from an old province's system
		steps[0].Action = ActMigrate
	}
	g.bump(received, agency, &d, stat{received: 1})
	g.bumpProc(received, &d, stat{received: 1})
	due := cal.DueDay(rday, p.Days)
	// When it is worked on, and what happens to it.
	t := received.Add(time.Duration(1+rng.IntN(20)) * time.Hour)
	add := func(a Action, s Status, note string) bool {
		if t.After(now) {
			return false
		}
		d.Status = s
		steps = append(steps, Step{Action: a, Status: s, AgencyID: d.AgencyID, Actor: actor, At: t, Note: note})
		return true
	}
	next := func(days int) { t = g.at(cal.AddWorkingDays(workday.DayOf(t), max(days, 1))) }
	open := !add(ActStart, InProgress, "")
	if !open && rng.IntN(10) == 0 {
		next(rng.IntN(max(p.Days/2, 1)))
		if open = !add(ActRequest, SupplementRequested, "Bổ sung bản sao giấy tờ còn thiếu"); !open {
			gap := 1 + rng.IntN(5)
			next(gap)
			due = cal.AddWorkingDays(due, gap)
			open = !add(ActSupplement, InProgress, "")
		}
	}
	if !open && rng.IntN(20) == 0 && len(g.opt.Departments) > 0 {
		next(1)
		to := g.opt.Departments[rng.IntN(len(g.opt.Departments))]
		if to != d.AgencyID {
			old := d.AgencyID
			d.AgencyID = to
			if open = !add(ActTransfer, InProgress, "Chuyển cơ quan có thẩm quyền"); open {
				d.AgencyID = old
			}
		}
	}
	if !open {
		// Most are finished by the due day; about 7 % late.
		left := cal.WorkingDaysBetween(workday.DayOf(t), due)
		if rng.IntN(100) < 7 {
			next(left + 1 + rng.IntN(8))
		} else {
			next(rng.IntN(max(left, 0) + 1))
			if workday.DayOf(t) > due {
				t = g.at(due)
			}
		}
		action, status := ActApprove, Approved
		if rng.IntN(100) < 6 {
			action, status = ActReject, Rejected
		}
		if add(action, status, map[Action]string{ActReject: "Hồ sơ không đủ điều kiện theo quy định"}[action]) {
			d.FinishedAt = t
			if rng.IntN(100) < 85 {
				next(rng.IntN(3))
				if add(ActReturn, Returned, "") {
					d.ReturnedAt = t
				}
			}
		}
	}
	// The clock, as Act computes it.
	wd := clock(d, steps)
	st := cal.Status(wd, now)
	d.DueDay = int(st.Due)
	if st.State == workday.Paused {
		d.PausedAt = pauseStart(wd)
	}
	d.PausedDays = pausedDays(cal, wd, now)
	if !d.FinishedAt.IsZero() {
		d.LateDays = st.Late
		onTime := 0
		if st.State != workday.Overdue {
			onTime = 1
		}
		g.bump(d.FinishedAt, d.AgencyID, &d, stat{finished: 1, onTime: onTime})
		g.bumpProc(d.FinishedAt, &d, stat{finished: 1, onTime: onTime, lateDays: st.Late})
		if st.Late > 0 {
			for _, sh := range cal.Attribute(wd, handovers(steps), d.FinishedAt) {
				if sh.Late > 0 {
					g.bump(d.FinishedAt, sh.Holder, &d, stat{lateDays: sh.Late})
				}
			}
		}
	}
	alias := ""
	if i%10 == 3 {
		alias = fmt.Sprintf("000.00.%02d.H30-%s-%07d", i%50, received.In(workday.Zone).Format("060102"), i)
	}
	return d, steps, alias
}

// sink writes rows in bulk: multi-row INSERTs in one transaction on SQLite,
// COPY on PostgreSQL.
type sink struct {
	d      *db.DB
	tables []string
	rows   int
	buf    map[string][][]any
}

var sinkColumns = map[string][]string{
	"proc_procedure": {"id", "code", "name", "name_fold", "field", "level", "agency_id", "days", "fee", "online", "papers", "active",
		"version", "created_at", "updated_at"},
	"proc_dossier":        columns(dossierCols),
	"proc_step":           {"dossier_id", "seq", "action", "status", "agency_id", "actor", "at", "note"},
	"proc_dossier_alias":  {"code", "dossier_id"},
	"proc_stat_unit":      {"month", "agency_id", "ward_code", "channel", "received", "finished", "on_time", "late_days"},
	"proc_stat_procedure": {"month", "procedure_id", "channel", "received", "finished", "on_time", "late_days"},
}

func newSink(_ context.Context, d *db.DB) (*sink, error) {
	return &sink{d: d, buf: map[string][][]any{}}, nil
}

func (s *sink) add(table string, row []any) {
	if _, ok := s.buf[table]; !ok {
		s.tables = append(s.tables, table)
	}
	s.buf[table] = append(s.buf[table], row)
	s.rows++
}

func (s *sink) close() {}

// flush writes what is buffered, parents before children.
func (s *sink) flush(ctx context.Context) error {
	defer func() { s.rows = 0 }()
	if s.d.Dialect() == db.Postgres {
		return s.copy(ctx)
	}
	return s.d.InTx(ctx, func(tx *db.Tx) error {
		for _, t := range s.tables {
			rows := s.buf[t]
			cols := sinkColumns[t]
			per := max(1, 900/len(cols))
			// Positional "?" placeholders: SQLite looks "$n" names up one by
			// one, which costs more than the insert itself at this size.
			stmt := func(n int) string {
				one := "(" + strings.Repeat("?, ", len(cols)-1) + "?)"
				return "INSERT INTO " + t + " (" + strings.Join(cols, ", ") + ") VALUES " + strings.Repeat(one+", ", n-1) + one
			}
			full, err := tx.PrepareContext(ctx, stmt(per))
			if err != nil {
				return err
			}
			args := make([]any, 0, per*len(cols))
			for len(rows) > 0 {
				n := min(per, len(rows))
				args = args[:0]
				for _, r := range rows[:n] {
					args = append(args, r...)
				}
				if n == per {
					_, err = full.ExecContext(ctx, args...)
				} else {
					_, err = tx.ExecContext(ctx, stmt(n), args...)
				}
				if err != nil {
					full.Close()
					return fmt.Errorf("generate %s: %w", t, err)
				}
				rows = rows[n:]
			}
			full.Close()
			s.buf[t] = s.buf[t][:0]
		}
		return nil
	})
}

func (s *sink) copy(ctx context.Context) error {
	conn, err := s.d.Writer().Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		for _, t := range s.tables {
			rows := s.buf[t]
			if len(rows) == 0 {
				continue
			}
			for _, r := range rows {
				for i, v := range r {
					if n, ok := v.(interface{ Value() (any, error) }); ok { // sql.NullInt64
						r[i], _ = n.Value()
					}
				}
			}
			if _, err := pc.CopyFrom(ctx, pgx.Identifier{t}, sinkColumns[t], pgx.CopyFromRows(rows)); err != nil {
				return fmt.Errorf("generate %s: %w", t, err)
			}
			s.buf[t] = s.buf[t][:0]
		}
		return nil
	})
}

// columns splits a column list written for SQL.
func columns(list string) []string {
	out := strings.Split(list, ",")
	for i := range out {
		out[i] = strings.TrimSpace(out[i])
	}
	return out
}

// dropListIndexes drops the secondary, non-unique indexes of the dossier
// tables and returns the statements that make them again.
func dropListIndexes(ctx context.Context, d *db.DB) ([]string, error) {
	rows, err := d.QueryContext(ctx, `SELECT indexname, indexdef FROM pg_indexes
WHERE schemaname = current_schema() AND tablename IN ('proc_dossier', 'proc_step') AND indexdef NOT LIKE 'CREATE UNIQUE%'`)
	if err != nil {
		return nil, err
	}
	var names, defs []string
	for rows.Next() {
		var n, def string
		if err := rows.Scan(&n, &def); err != nil {
			rows.Close()
			return nil, err
		}
		names, defs = append(names, n), append(defs, def)
	}
	rows.Close()
	for _, n := range names {
		if _, err := d.ExecContext(ctx, `DROP INDEX `+pgx.Identifier{n}.Sanitize()); err != nil {
			return nil, err
		}
	}
	return defs, rows.Err()
}
