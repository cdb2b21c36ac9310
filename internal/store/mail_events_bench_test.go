package store_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkInsertMailEvents is the open/click writer's write: a transaction
// of 32 repeat opens (the group commit's size at 64 connections) with a
// browser user agent, over 10,000 sends walked in order. ns/op is one
// transaction; cpu-ns/event is the process's CPU per event (comparable
// while other work shares the machine).
//
//	go test ./internal/store -run '^$' -bench InsertMailEvents -benchtime 2000x
func BenchmarkInsertMailEvents(b *testing.B) {
	const per = 32
	ua := "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
	for _, kind := range storetest.Kinds(b) {
		for _, mode := range []string{"full", "defer-sync"} {
			b.Run(string(kind)+"/"+mode, func(b *testing.B) {
				st := storetest.New(b, kind)
				ctx := context.Background()
				w := model.Workspace{Name: "B", Slug: "b", Currency: "USD"}
				if err := st.InTx(ctx, func(q store.Q) error { return q.CreateWorkspace(ctx, &w) }); err != nil {
					b.Fatal(err)
				}
				at := time.Now().UTC()
				n := 0
				evs := make([]*store.MailEvent, per)
				b.ResetTimer()
				cpu0 := cpuTime()
				for b.Loop() {
					for i := range evs {
						n++
						evs[i] = &store.MailEvent{SendID: int64(1 + n%10000), ContactID: int64(1 + n%10000), Kind: store.MailOpen, UserAgent: ua, At: at}
					}
					ins := func(q store.Q) error { return q.InsertMailEvents(ctx, w.ID, evs) }
					if mode == "full" {
						if err := st.InTx(ctx, ins); err != nil {
							b.Fatal(err)
						}
						continue
					}
					if err := st.InTxDeferSync(ctx, ins); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N*per), "cpu-ns/event")
			})
		}
	}
}
