package importer_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/rightsize/rightsize/internal/bench"
	"github.com/rightsize/rightsize/internal/importer"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// BenchmarkImportContacts measures a whole import of 100,000 contacts: store the
// upload, parse, map, validate, dedupe, link, write, reconcile. Run with
//
//	go test ./internal/importer -run '^$' -bench ImportContacts -benchtime 3x
func BenchmarkImportContacts(b *testing.B) {
	rows := benchRows
	data := bench.ContactsCSV(rows)
	for _, kind := range storetest.Kinds(b) {
		b.Run(string(kind), func(b *testing.B) {
			st := storetest.New(b, kind)
			ctx := context.Background()
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			var cpu int64 // µs of process CPU inside the timed part
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				w := model.Workspace{Name: "bench", Slug: fmt.Sprintf("bench-%d", i)}
				if err := st.InTx(ctx, func(q store.Q) error { return q.CreateWorkspace(ctx, &w) }); err != nil {
					b.Fatal(err)
				}
				svc := &importer.Service{St: st}
				act := model.Actor{Workspace: w.ID, Label: "bench"}
				cpu -= cpuMicros()
				b.StartTimer()
				im, err := svc.CreateLocal(ctx, act, "contacts", "bench.csv", bytes.NewReader(data), importer.Options{})
				if err != nil {
					b.Fatal(err)
				}
				im, err = svc.Run(ctx, w.ID, im.ID, nil)
				if err != nil {
					b.Fatal(err)
				}
				cpu += cpuMicros()
				if im.Accepted != int64(rows) || !im.Reconciles() {
					b.Fatalf("%+v", im)
				}
			}
			// CPU per row stays comparable while other work shares the machine.
			b.ReportMetric(float64(cpu)/float64(rows*b.N), "cpu-µs/row")
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			var ru syscall.Rusage
			if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
				b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MB")
			}
		})
	}
}

var _ = strings.Repeat

func cpuMicros() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return (ru.Utime.Nano() + ru.Stime.Nano()) / 1000
}

var benchRows = envInt("RIGHTSIZE_BENCH_ROWS", 100_000)

func envInt(k string, def int) int {
	var n int
	if _, err := fmt.Sscan(os.Getenv(k), &n); err == nil && n > 0 {
		return n
	}
	return def
}
