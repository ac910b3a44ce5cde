package jobs_test

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"hopnhat/internal/platform/db"
	"hopnhat/internal/platform/dbtest"
	"hopnhat/internal/platform/jobs"
)

// The multi-process tests run this test binary again as runner processes: the
// environment tells TestHelperProcess what to be.
const (
	helperEnv   = "HOPNHAT_JOBS_HELPER" // "1" in a child
	helperURL   = "HOPNHAT_JOBS_URL"
	helperOwner = "HOPNHAT_JOBS_OWNER"
	helperLease = "HOPNHAT_JOBS_LEASE"
	helperStall = "HOPNHAT_JOBS_STALL_AT" // steps jobs block after this step
	readyLine   = "HOPNHAT_JOBS_READY"
)

// Tables the helper handlers write what they did into.
const procTables = `
CREATE TABLE job_runs (job_id TEXT NOT NULL, owner TEXT NOT NULL, attempt BIGINT NOT NULL, ok BOOLEAN NOT NULL, started_ns BIGINT NOT NULL, ended_ns BIGINT NOT NULL);
CREATE TABLE job_starts (job_id TEXT NOT NULL, owner TEXT NOT NULL, attempt BIGINT NOT NULL, from_step BIGINT NOT NULL);
CREATE TABLE job_effects (job_id TEXT NOT NULL, step BIGINT NOT NULL, owner TEXT NOT NULL)`

// TestHelperProcess is not a test: it is the runner process the multi-process
// tests start. It runs until its stdin closes.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("runs only as a child process of the multi-process tests")
	}
	if err := runHelper(); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
}

func runHelper() error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, err := db.Open(ctx, db.Config{URL: os.Getenv(helperURL)})
	if err != nil {
		return err
	}
	defer d.Close()
	lease, err := time.ParseDuration(os.Getenv(helperLease))
	if err != nil {
		return err
	}
	stallAt, _ := strconv.Atoi(os.Getenv(helperStall))
	owner := os.Getenv(helperOwner)
	r, err := jobs.NewRunner(jobs.NewQueue(d, log), jobs.RunnerConfig{
		Owner: owner, Lease: lease, Heartbeat: lease / 5, Poll: 10 * time.Millisecond, Concurrency: 2,
		Backoff: func(int) time.Duration { return 0 },
	}, map[string]jobs.Handler{
		"record": recordHandler(d, owner),
		"steps":  stepsHandler(d, owner, stallAt),
	})
	if err != nil {
		return err
	}
	fmt.Println(readyLine)
	return r.Run(ctx)
}

type recordArgs struct {
	FailFirst bool `json:"fail_first"`
	SleepMS   int  `json:"sleep_ms"`
}

// recordHandler stores the wall-clock interval of each run of a job and
// whether it succeeded. The row is written under the job's lease (with a
// checkpoint in the same transaction), so a run whose lease was taken over
// stores nothing: what is stored is what the lease vouches for.
func recordHandler(d *db.DB, owner string) jobs.Handler {
	return func(ctx context.Context, j *jobs.Job, p jobs.Progress) error {
		var args recordArgs
		if err := j.Decode(&args); err != nil {
			return jobs.Permanent(err)
		}
		if string(j.Checkpoint) == "ok" {
			// An earlier run succeeded but its runner lost the lease before it
			// could say so: nothing left to do.
			return nil
		}
		start := time.Now().UnixNano()
		select {
		case <-time.After(time.Duration(args.SleepMS) * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
		fail := args.FailFirst && j.Attempts == 1
		mark := "ok"
		if fail {
			mark = "failed"
		}
		err := d.InTx(ctx, func(tx *db.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO job_runs (job_id, owner, attempt, ok, started_ns, ended_ns) VALUES ($1, $2, $3, $4, $5, $6)`,
				j.ID, owner, j.Attempts, !fail, start, time.Now().UnixNano()); err != nil {
				return err
			}
			return p.CheckpointTx(ctx, tx, []byte(mark))
		})
		if err != nil {
			return err
		}
		if fail {
			return errors.New("first attempt fails")
		}
		return nil
	}
}

// stepsHandler does Steps steps, each one written with its checkpoint in one
// transaction, resuming from the checkpoint; it blocks after step stallAt.
func stepsHandler(d *db.DB, owner string, stallAt int) jobs.Handler {
	return func(ctx context.Context, j *jobs.Job, p jobs.Progress) error {
		var args struct{ Steps int }
		if err := j.Decode(&args); err != nil {
			return jobs.Permanent(err)
		}
		from := 0
		if j.Checkpoint != nil {
			var err error
			if from, err = strconv.Atoi(string(j.Checkpoint)); err != nil {
				return jobs.Permanent(err)
			}
		}
		if _, err := d.ExecContext(ctx, `INSERT INTO job_starts (job_id, owner, attempt, from_step) VALUES ($1, $2, $3, $4)`,
			j.ID, owner, j.Attempts, from); err != nil {
			return err
		}
		for i := from; i < args.Steps; i++ {
			err := d.InTx(ctx, func(tx *db.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO job_effects (job_id, step, owner) VALUES ($1, $2, $3)`, j.ID, i, owner); err != nil {
					return err
				}
				return p.CheckpointTx(ctx, tx, []byte(strconv.Itoa(i+1)))
			})
			if err != nil {
				return err
			}
			if err := p.Report(ctx, int64(i+1), int64(args.Steps), "step "+strconv.Itoa(i+1)); err != nil {
				return err
			}
			if i+1 == stallAt {
				<-ctx.Done() // until the test kills this process
				return ctx.Err()
			}
			time.Sleep(5 * time.Millisecond)
		}
		return nil
	}
}

// child is a runner process.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	ready chan struct{}
	done  chan error
}

func startChild(t *testing.T, url, owner string, lease time.Duration, stallAt int) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), helperEnv+"=1", helperURL+"="+url, helperOwner+"="+owner,
		helperLease+"="+lease.String(), helperStall+"="+strconv.Itoa(stallAt))
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", owner, err)
	}
	c := &child{cmd: cmd, stdin: stdin, ready: make(chan struct{}), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == readyLine {
				close(c.ready)
			}
		}
		// Wait only after every read from the pipe is done.
		c.done <- cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		_ = stdin.Close()
		select {
		case <-c.done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-c.done
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", owner, stderr.String())
		}
	})
	select {
	case <-c.ready:
	case err := <-c.done:
		t.Fatalf("%s exited before it was ready: %v\n%s", owner, err, stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("%s not ready:\n%s", owner, stderr.String())
	}
	return c
}

// stop closes the child's stdin and waits for it to stop its runner and exit.
func (c *child) stop(t *testing.T) {
	t.Helper()
	_ = c.stdin.Close()
	select {
	case err, ok := <-c.done:
		if ok && err != nil {
			t.Errorf("runner process exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("runner process did not stop")
	}
}

// kill sends SIGKILL: the process gets no chance to hand its jobs back.
func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill: %v", err)
	}
	<-c.done
}

// eachEngine runs fn on a database file or schema that child processes open
// by URL: a SQLite file, and the test PostgreSQL when configured.
func eachEngine(t *testing.T, fn func(t *testing.T, url string, d *db.DB)) {
	t.Helper()
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			url := "sqlite:" + filepath.Join(t.TempDir(), "jobs.db")
			if engine == "postgres" {
				url = dbtest.PostgresSchemaURL(t)
			}
			ctx := context.Background()
			d, err := db.Open(ctx, db.Config{URL: url})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { d.Close() })
			if err := d.Migrate(ctx, modules); err != nil {
				t.Fatal(err)
			}
			for _, stmt := range strings.Split(procTables, ";") {
				if _, err := d.ExecContext(ctx, stmt); err != nil {
					t.Fatal(err)
				}
			}
			fn(t, url, d)
		})
	}
}

func TestTwoProcessesNeverRunOneJobAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	eachEngine(t, func(t *testing.T, url string, d *db.DB) {
		ctx := context.Background()
		// A short lease, and some jobs longer than a heartbeat, so leases are
		// renewed while the other process claims.
		a := startChild(t, url, "proc-a", time.Second, 0)
		b := startChild(t, url, "proc-b", 2*time.Second, 0)
		q := jobs.NewQueue(d, testLogger(t))
		const n = 60
		failFirst := map[string]bool{}
		for i := range n {
			sleep := 10
			if i%10 == 0 {
				sleep = 500
			}
			j := mustEnqueue(t, q, "record", recordArgs{FailFirst: i%3 == 0, SleepMS: sleep}, jobs.EnqueueOptions{MaxAttempts: 3})
			failFirst[j.ID] = i%3 == 0
		}
		waitFor(t, 60*time.Second, "all jobs to succeed", func() bool {
			s, err := q.Stats(ctx)
			return err == nil && s.ByState[jobs.Succeeded] == n
		})
		a.stop(t)
		b.stop(t)

		type run struct {
			owner      string
			attempt    int
			ok         bool
			start, end int64
		}
		rows, err := d.QueryContext(ctx, `SELECT job_id, owner, attempt, ok, started_ns, ended_ns FROM job_runs`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		runs := map[string][]run{}
		perOwner := map[string]int{}
		for rows.Next() {
			var id string
			var r run
			if err := rows.Scan(&id, &r.owner, &r.attempt, &r.ok, &r.start, &r.end); err != nil {
				t.Fatal(err)
			}
			runs[id] = append(runs[id], r)
			perOwner[r.owner]++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		// Every job succeeded exactly once; a job whose first attempt fails ran
		// at least twice; and no two runs of one job overlap in time. (A lease
		// taken over from a stalled process leaves no row, so the counts hold
		// even on a loaded machine.)
		for id, fails := range failFirst {
			rs := runs[id]
			slices.SortFunc(rs, func(x, y run) int { return cmp.Compare(x.start, y.start) })
			succeeded := 0
			for i, r := range rs {
				if r.ok {
					succeeded++
				}
				if i > 0 && r.start < rs[i-1].end {
					t.Errorf("job %s: run by %s (attempt %d) started before the run by %s (attempt %d) ended",
						id, r.owner, r.attempt, rs[i-1].owner, rs[i-1].attempt)
				}
				if i > 0 && r.attempt <= rs[i-1].attempt {
					t.Errorf("job %s: attempt %d ran after attempt %d", id, r.attempt, rs[i-1].attempt)
				}
			}
			if succeeded != 1 || (fails && len(rs) < 2) {
				t.Errorf("job %s: got %d runs of which %d succeeded, want exactly one success (after a failure: %v)", id, len(rs), succeeded, fails)
			}
			if got := mustGet(t, q, id); got.State != jobs.Succeeded || got.Attempts < len(rs) {
				t.Errorf("job %s: got %s after %d attempts, want succeeded after at least %d", id, got.State, got.Attempts, len(rs))
			}
		}
		if perOwner["proc-a"] == 0 || perOwner["proc-b"] == 0 {
			t.Errorf("got runs per process %v, want both processes to work", perOwner)
		}
		t.Logf("runs per process: %v", perOwner)
	})
}

func TestKilledRunnerJobResumesFromCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	eachEngine(t, func(t *testing.T, url string, d *db.DB) {
		ctx := context.Background()
		q := jobs.NewQueue(d, testLogger(t))
		const steps, stallAt = 10, 4
		j := mustEnqueue(t, q, "steps", map[string]int{"steps": steps}, jobs.EnqueueOptions{MaxAttempts: 3})

		a := startChild(t, url, "proc-a", 1500*time.Millisecond, stallAt)
		waitFor(t, 60*time.Second, "the first runner to reach its checkpoint", func() bool {
			got, err := q.Get(ctx, j.ID)
			return err == nil && string(got.Checkpoint) == strconv.Itoa(stallAt)
		})
		a.kill(t)
		if got := mustGet(t, q, j.ID); got.State != jobs.Running || got.Owner != "proc-a" || got.Attempts != 1 {
			t.Fatalf("after kill -9 got %s owner %q attempts %d, want running under proc-a's lease", got.State, got.Owner, got.Attempts)
		}

		b := startChild(t, url, "proc-b", 2*time.Second, 0)
		waitFor(t, 60*time.Second, "the job to succeed", func() bool {
			got, err := q.Get(ctx, j.ID)
			return err == nil && got.State == jobs.Succeeded
		})
		b.stop(t)

		got := mustGet(t, q, j.ID)
		if got.Attempts != 2 || got.Owner != "proc-b" || string(got.Checkpoint) != strconv.Itoa(steps) || got.Done != steps || got.LastError != "" {
			t.Errorf("got attempts %d owner %q checkpoint %q done %d error %q, want 2 proc-b %d %d none",
				got.Attempts, got.Owner, got.Checkpoint, got.Done, got.LastError, steps, steps)
		}
		var starts []string
		rows, err := d.QueryContext(ctx, `SELECT owner, attempt, from_step FROM job_starts WHERE job_id = $1 ORDER BY attempt`, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var owner string
			var attempt, from int
			if err := rows.Scan(&owner, &attempt, &from); err != nil {
				t.Fatal(err)
			}
			starts = append(starts, fmt.Sprintf("%s#%d from %d", owner, attempt, from))
		}
		if want := []string{"proc-a#1 from 0", "proc-b#2 from 4"}; !slices.Equal(starts, want) {
			t.Errorf("got starts %v, want %v", starts, want)
		}
		var effects []string
		rows, err = d.QueryContext(ctx, `SELECT step, owner FROM job_effects WHERE job_id = $1 ORDER BY step, owner`, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var step int
			var owner string
			if err := rows.Scan(&step, &owner); err != nil {
				t.Fatal(err)
			}
			effects = append(effects, fmt.Sprintf("%d:%s", step, owner))
		}
		want := []string{"0:proc-a", "1:proc-a", "2:proc-a", "3:proc-a", "4:proc-b", "5:proc-b", "6:proc-b", "7:proc-b", "8:proc-b", "9:proc-b"}
		if !slices.Equal(effects, want) {
			t.Errorf("got effects %v, want each step exactly once: %v", effects, want)
		}
	})
}
