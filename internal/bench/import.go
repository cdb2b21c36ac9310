package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/rightsize/rightsize/internal/importer"
)

// runImport: a CSV of --rows contacts (default 100,000; 8 columns, a date,
// 5,000 company domains) written to a file, then imported end to end the way
// `rightsize import` does it: store the upload, parse, map, validate, dedupe
// against the database, link accounts by domain, write, reconcile. Peak RSS
// is measured from the start of the import (the file is on disk, not in
// memory).
func runImport(ctx context.Context, o Options, r *Result) error {
	e, n, err := startApp(ctx, o, r, 100000)
	if err != nil {
		return err
	}
	defer e.close(r)
	path := filepath.Join(e.dir, "contacts.csv")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteContactsCSV(f, n); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Seek(0, 0); err != nil {
		return err
	}
	defer f.Close()
	st, _ := f.Stat()
	done := measure(o)
	pg := e.pgMeter(ctx)
	t0 := time.Now()
	cpu0 := cpuTime()
	im, err := e.App.Imports.CreateLocal(ctx, e.actor(), "contacts", "contacts.csv", f, importer.Options{})
	if err != nil {
		return err
	}
	im, err = e.App.Imports.Run(ctx, e.WS.ID, im.ID, nil)
	el := time.Since(t0)
	cpu := cpuTime() - cpu0
	done()
	pg.stop(ctx, r, "rows", int64(im.Accepted))
	if err != nil {
		return err
	}
	if im.Accepted != int64(n) || !im.Reconciles() {
		return fmt.Errorf("import: %d of %d rows accepted (%+v)", im.Accepted, n, im)
	}
	target := 100000.0
	if o.Store == "postgres" {
		target = 50000
	}
	r.add(atLeast("import rate", float64(n)/el.Seconds(), "rows/s", target))
	r.add(plain("elapsed", el.Seconds(), "s"))
	r.add(plain("CPU per 1,000 rows (this process)", cpu.Seconds()*1000/float64(n), "cpu-s"))
	r.add(plain("file size", float64(st.Size())/1e6, "MB"))
	r.PeakRSSMB = peakRSSMB()
	r.add(below("peak RSS during the import", r.PeakRSSMB, "MB", 300))
	return nil
}
