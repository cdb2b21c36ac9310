package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
	"github.com/riverqueue/river"
)

type rescueArgs struct{ N int }

func (rescueArgs) Kind() string { return "rescue_test" }

// Jobs a SIGKILLed SQLite process left running (or a backup held as running)
// are handed back: one with attempts left is available again, one without is
// discarded, jobs in other states are not touched; the reason is noted.
func TestRescueRunningJobs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) { testRescueRunningJobs(t, st) })
}

func testRescueRunningJobs(t *testing.T, st *store.Store) {
	ctx := context.Background()
	rc, err := river.NewClient(st.RiverDriver(), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for i, name := range []string{"running", "exhausted", "waiting"} {
		res, err := rc.Insert(ctx, rescueArgs{N: i}, &river.InsertOpts{MaxAttempts: 3})
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = res.Job.ID
	}
	// What a worker's fetch leaves, then a SIGKILL.
	var past any = time.Now().Add(-time.Minute).UTC()
	if st.Kind == store.SQLite {
		past = past.(time.Time).Format("2006-01-02 15:04:05.000") // riversqlite's format
	}
	for name, attempt := range map[string]int{"running": 1, "exhausted": 3} {
		if _, err := st.W.ExecContext(ctx, `UPDATE river_job SET state='running', attempt=$1, attempted_at=$2 WHERE id=$3`, attempt, past, ids[name]); err != nil {
			t.Fatal(err)
		}
	}
	rescued, discarded, err := st.AdminRescueRunningJobs(ctx, time.Now().UTC(), "rescued by the test")
	if err != nil || rescued != 1 || discarded != 1 {
		t.Fatalf("rescue: %d rescued, %d discarded, %v; want 1, 1", rescued, discarded, err)
	}
	for name, want := range map[string]string{"running": "available", "exhausted": "discarded", "waiting": "available"} {
		j, err := rc.JobGet(ctx, ids[name])
		if err != nil {
			t.Fatal(err)
		}
		if string(j.State) != want {
			t.Fatalf("%s job: %s, want %s", name, j.State, want)
		}
		if name != "waiting" && (len(j.Errors) != 1 || j.Errors[0].Error != "rescued by the test") {
			t.Fatalf("%s job: errors %v, want the rescue noted", name, j.Errors)
		}
	}
	if n, m, err := st.AdminRescueRunningJobs(ctx, time.Now(), "again"); err != nil || n+m != 0 {
		t.Fatalf("a second rescue: %d, %d, %v", n, m, err)
	}
}
