package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/rightsize/rightsize/internal/config"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/export"
	"github.com/rightsize/rightsize/internal/store"
)

func runExport(ctx context.Context, e *env, args []string) error {
	fs := e.flags("export", "export --workspace slug --object contacts [--out file.csv]")
	cfg := config.Defaults()
	config.Bind(fs, &cfg, false)
	wsSlug := fs.String("workspace", "", "workspace slug")
	object := fs.String("object", "", "accounts, contacts, deals or activities")
	out := fs.String("out", "", "output file (default: standard output)")
	if err := config.Load(fs, &cfg, args); err != nil {
		return err
	}
	if !oneOf(*object, export.Objects) {
		return usagef("--object must be one of %v", export.Objects)
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
	var dst io.Writer = e.stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		dst = f
	}
	n, err := export.Write(ctx, a.St, w.ID, *object, dst)
	if err != nil {
		return err
	}
	act := cliActor(w.ID)
	if err := a.St.InTx(ctx, func(q store.Q) error {
		return crm.Audit(ctx, q, act, "export", *object, nil, map[string]any{"rows": n})
	}); err != nil {
		return err
	}
	if *out != "" {
		fmt.Fprintf(e.stdout, "Exported %d %s to %s.\n", n, *object, *out)
	}
	return nil
}
