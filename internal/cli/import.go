package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rightsize/rightsize/internal/config"
	"github.com/rightsize/rightsize/internal/importer"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/schollz/progressbar/v3"
)

func runImport(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "spend" {
		return runImportSpend(ctx, e, args[1:])
	}
	// "import subscriptions file.csv --workspace acme": the object and the
	// file may come first, as words, instead of --object and --file.
	var words []string
	for len(args) > 0 && len(words) < 2 && !strings.HasPrefix(args[0], "-") {
		words, args = append(words, args[0]), args[1:]
	}
	fs := e.flags("import", "import --workspace slug --object contacts --file data.csv [--map mapping.json] [--date-format dmy] [--json]\n       import subscriptions data.csv --workspace slug [flags]")
	cfg := config.Defaults()
	config.Bind(fs, &cfg, false)
	wsSlug := fs.String("workspace", "", "workspace slug")
	object := fs.String("object", "", "accounts, contacts, deals, activities or subscriptions")
	file := fs.String("file", "", "CSV file to import")
	mapFile := fs.String("map", "", `JSON file with importer options: {"mapping": {"Source column": "field"}, "value_maps": {"stage": {"Discovery": "approach"}}, "date_format": "dmy", "delimiter": ";", "pipeline": "high_touch"}`)
	dateFmt := fs.String("date-format", "", "force how ambiguous dates are read: iso, dmy or mdy (default: decided per column)")
	delim := fs.String("delimiter", "", `force the delimiter: ",", ";" or "tab" (default: sniffed)`)
	pipeline := fs.String("pipeline", "", "deals: pipeline when the file has none (high_touch or digital)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	noProgress := fs.Bool("no-progress", false, "no progress bar")
	if err := config.Load(fs, &cfg, args); err != nil {
		return err
	}
	words = append(words, fs.Args()...)
	if len(words) > 2 {
		return usagef("unexpected argument %q", words[2])
	}
	if len(words) > 0 {
		if *object != "" {
			return usagef("give the object once: as a word or as --object")
		}
		*object = words[0]
	}
	if len(words) > 1 {
		if *file != "" {
			return usagef("give the file once: as a word or as --file")
		}
		*file = words[1]
	}
	if _, ok := importer.ObjectTypes[*object]; !ok {
		return usagef("--object must be accounts, contacts, deals, activities or subscriptions")
	}
	if *file == "" {
		return usagef("--file is required")
	}
	var opts importer.Options
	if *mapFile != "" {
		b, err := os.ReadFile(*mapFile)
		if err != nil {
			return err
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&opts); err != nil {
			return fmt.Errorf("%s: %w", *mapFile, err)
		}
	}
	if *dateFmt != "" {
		opts.DateFormat = *dateFmt
	}
	if *delim != "" {
		opts.Delimiter = *delim
	}
	if *pipeline != "" {
		opts.Pipeline = *pipeline
	}
	f, err := os.Open(*file)
	if err != nil {
		return err
	}
	defer f.Close()
	lines, err := countLines(f)
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	a, err := e.openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	w, err := workspaceBySlug(ctx, a, *wsSlug)
	if err != nil {
		return err
	}
	im, err := a.Imports.CreateLocal(ctx, cliActor(w.ID), *object, filepath.Base(*file), bufio.NewReaderSize(f, 1<<20), opts)
	if err != nil {
		return err
	}
	var bar *progressbar.ProgressBar
	if !*asJSON && !*noProgress && isTerminal(e.stderr) {
		bar = progressbar.NewOptions64(max(lines-1, 1), progressbar.OptionSetWriter(e.stderr), progressbar.OptionSetDescription("importing "+*object),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("rows"), progressbar.OptionThrottle(100_000_000))
	}
	im, runErr := a.Imports.Run(ctx, w.ID, im.ID, func(p model.Import) {
		if bar != nil {
			_ = bar.Set64(p.Rows)
		}
	})
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(e.stderr)
	}
	if runErr != nil && im.Status != "failed" {
		return runErr
	}
	errs, err := a.St.Read().ImportErrors(ctx, w.ID, im.ID, 20)
	if err != nil {
		return err
	}
	if *asJSON {
		return e.printJSON(map[string]any{"import": im, "errors": errs, "reconciles": im.Reconciles()})
	}
	fmt.Fprintf(e.stdout, "Import %d (%s): %s\n", im.ID, im.Filename, im.Status)
	fmt.Fprintf(e.stdout, "  rows %d = accepted %d + merged duplicates %d + rejected %d\n", im.Rows, im.Accepted, im.Merged, im.Rejected)
	if im.Error != "" {
		fmt.Fprintf(e.stdout, "  error: %s\n", im.Error)
	}
	for _, er := range errs {
		fmt.Fprintf(e.stdout, "  line %d:%d %s: %s\n", er.Line, er.Col, er.Field, er.Reason)
	}
	if im.Rejected > int64(len(errs)) {
		fmt.Fprintf(e.stdout, "  … and %d more; download all: GET /api/v1/imports/%d/errors.csv\n", im.Rejected-int64(len(errs)), im.ID)
	}
	if im.Status == "failed" {
		return fmt.Errorf("import failed: %s", im.Error)
	}
	return nil
}

func countLines(r io.Reader) (int64, error) {
	buf := make([]byte, 1<<20)
	var n int64
	for {
		k, err := r.Read(buf)
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		if err == io.EOF {
			return n + 1, nil
		}
		if err != nil {
			return n, err
		}
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
