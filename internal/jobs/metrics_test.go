package jobs_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
	"github.com/commons-gov/commons/internal/jobs"
)

func TestCollector(t *testing.T) {
	dbtest.Each(t, migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		workers := river.NewWorkers()
		river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[recordArgs]) error {
			if job.Args.Key == "cancel" {
				return river.JobCancel(errors.New("not wanted"))
			}
			return nil
		}))
		c := newClient(t, d, jobs.Config{Workers: workers, Work: true})
		for _, key := range []string{"ok", "cancel"} {
			if err := c.Insert(ctx, recordArgs{Key: key}, nil); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, 30*time.Second, "both jobs to finish", func() (bool, error) {
			n, err := count(ctx, d, "SELECT count(*) FROM river_job WHERE state IN ('completed', 'cancelled')")
			return n == 2, err
		})

		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(c.Collector())
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, f := range families {
			for _, m := range f.GetMetric() {
				key := f.GetName() + labels(m)
				switch f.GetType() {
				case dto.MetricType_GAUGE:
					got[key] = m.GetGauge().GetValue()
				case dto.MetricType_HISTOGRAM:
					got[key] = float64(m.GetHistogram().GetSampleCount())
				}
			}
		}
		for key, want := range map[string]float64{
			"commons_jobs{kind=test_record,state=completed}":                       1,
			"commons_jobs{kind=test_record,state=cancelled}":                       1,
			"commons_jobs{kind=test_record,state=available}":                       0,
			"commons_job_run_duration_seconds{kind=test_record,outcome=completed}": 1,
			"commons_job_run_duration_seconds{kind=test_record,outcome=cancelled}": 1,
			"commons_job_wait_seconds{kind=test_record}":                           2,
		} {
			if v, ok := got[key]; !ok || v != want {
				t.Errorf("%s = %v (present %v); want %v", key, v, ok, want)
			}
		}
	})
}

func labels(m *dto.Metric) string {
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// runs returns how many runs of test_record jobs with the given outcome c's collector counted.
func runs(t testing.TB, c *jobs.Client, outcome string) uint64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c.Collector())
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "commons_job_run_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			if labels(m) == "{kind=test_record,outcome="+outcome+"}" {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	return 0
}
