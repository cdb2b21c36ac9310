package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/config"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

func sub(args []string, names ...string) (string, []string, error) {
	if len(args) == 0 || !oneOf(args[0], names) {
		return "", nil, usagef("want one of: %v", names)
	}
	return args[0], args[1:], nil
}

func runWorkspace(ctx context.Context, e *env, args []string) error {
	verb, rest, err := sub(args, "create", "list")
	if err != nil {
		return err
	}
	fs := e.flags("workspace "+verb, "workspace create --name N --slug S [--currency USD] | workspace list")
	cfg := config.Defaults()
	config.Bind(fs, &cfg, false)
	name := fs.String("name", "", "workspace name")
	slug := fs.String("slug", "", "short unique name used by CLI flags")
	cur := fs.String("currency", "USD", "ISO 4217 currency of money fields")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := config.Load(fs, &cfg, rest); err != nil {
		return err
	}
	a, err := e.openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	if verb == "list" {
		ws, err := a.St.Read().AdminListWorkspaces(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return e.printJSON(ws)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSLUG\tNAME\tCURRENCY")
		for _, w := range ws {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", w.ID, w.Slug, w.Name, w.Currency)
		}
		return tw.Flush()
	}
	if *name == "" || *slug == "" {
		return usagef("--name and --slug are required")
	}
	w := model.Workspace{Name: *name, Slug: *slug, Currency: *cur}
	if err := a.St.InTx(ctx, func(q store.Q) error { return q.CreateWorkspace(ctx, &w) }); err != nil {
		return err
	}
	if *asJSON {
		return e.printJSON(w)
	}
	fmt.Fprintf(e.stdout, "Created workspace %s (id %d).\n", w.Slug, w.ID)
	return nil
}

func runUser(ctx context.Context, e *env, args []string) error {
	verb, rest, err := sub(args, "create", "reset-password", "add", "remove", "disable", "enable")
	if err != nil {
		return err
	}
	// "user disable someone@x.io": the email may come first, before the flags.
	var positional string
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		positional, rest = rest[0], rest[1:]
	}
	fs := e.flags("user "+verb, "user create --email E [--name N] [--workspace slug --role admin] [--password P] | user reset-password --email E [--password P] | user add --email E --workspace slug --role ae (grant or change a role) | user remove --email E --workspace slug | user disable E (ends their sessions; their API keys stop) | user enable E")
	cfg := config.Defaults()
	config.Bind(fs, &cfg, false)
	email := fs.String("email", "", "login email")
	name := fs.String("name", "", "display name")
	wsSlug := fs.String("workspace", "", "workspace slug to add the user to")
	role := fs.String("role", "admin", "role in that workspace: admin, manager, ldr, ae, csm, partner")
	pw := fs.String("password", "", "password (generated and printed once when empty)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := config.Load(fs, &cfg, rest); err != nil {
		return err
	}
	if positional != "" {
		if *email != "" && auth.NormalizeEmail(*email) != auth.NormalizeEmail(positional) {
			return usagef("give the email once (%s or --email %s)", positional, *email)
		}
		*email = positional
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *email == "" {
		return usagef("--email is required")
	}
	a, err := e.openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	if verb == "disable" || verb == "enable" {
		u, err := a.Auth.SetDisabled(ctx, cliActor(0), *email, verb == "disable")
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no user %s", auth.NormalizeEmail(*email))
		}
		if err != nil {
			return err
		}
		if *asJSON {
			return e.printJSON(map[string]any{"email": u.Email, "id": u.ID, "disabled": u.Disabled})
		}
		if u.Disabled {
			fmt.Fprintf(e.stdout, "Disabled %s: their sessions ended, they cannot sign in, and the API keys they created are refused until they are enabled again.\n", u.Email)
		} else {
			fmt.Fprintf(e.stdout, "Enabled %s: they can sign in again, and the API keys they created work again.\n", u.Email)
		}
		return nil
	}
	if verb == "add" || verb == "remove" {
		roleSet := false
		fs.Visit(func(f *flag.Flag) { roleSet = roleSet || f.Name == "role" })
		if verb == "add" && !roleSet {
			return usagef("user add needs --role (admin, manager, ldr, ae, csm or partner)")
		}
		w, err := workspaceBySlug(ctx, a, *wsSlug)
		if err != nil {
			return err
		}
		r := *role
		if verb == "remove" {
			r = ""
		}
		if err := a.Auth.SetRole(ctx, cliActor(w.ID), *email, r); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no user %s (or not a member of %s)", auth.NormalizeEmail(*email), w.Slug)
			}
			return err
		}
		out := map[string]any{"email": auth.NormalizeEmail(*email), "workspace": w.Slug, "role": r}
		if *asJSON {
			return e.printJSON(out)
		}
		if r == "" {
			fmt.Fprintf(e.stdout, "Removed %s from %s; their sessions lose it on the next request.\n", out["email"], w.Slug)
		} else {
			fmt.Fprintf(e.stdout, "%s is now %s in %s.\n", out["email"], r, w.Slug)
		}
		return nil
	}
	password := *pw
	generated := password == ""
	if generated {
		password = auth.GeneratePassword()
	}
	out := map[string]any{"email": auth.NormalizeEmail(*email)}
	if generated {
		out["password"] = password
	}
	if verb == "reset-password" {
		if err := a.Auth.ResetPassword(ctx, *email, password); err != nil {
			return err
		}
	} else {
		var wsID int64
		if *wsSlug != "" {
			w, err := workspaceBySlug(ctx, a, *wsSlug)
			if err != nil {
				return err
			}
			wsID = w.ID
			out["workspace"], out["role"] = w.Slug, *role
		}
		u, err := a.Auth.CreateUser(ctx, *email, *name, password, wsID, *role)
		if err != nil {
			return err
		}
		out["id"] = u.ID
	}
	if *asJSON {
		return e.printJSON(out)
	}
	fmt.Fprintf(e.stdout, "%s: done for %s.\n", verb, out["email"])
	if generated {
		fmt.Fprintf(e.stdout, "Password (shown once): %s\n", password)
	}
	return nil
}

func runAPIKey(ctx context.Context, e *env, args []string) error {
	verb, rest, err := sub(args, "create", "list", "revoke")
	if err != nil {
		return err
	}
	fs := e.flags("apikey "+verb, "apikey create --workspace slug --name N [--role manager] [--user email] | apikey list --workspace slug | apikey revoke --workspace slug --id N")
	cfg := config.Defaults()
	config.Bind(fs, &cfg, false)
	wsSlug := fs.String("workspace", "", "workspace slug")
	name := fs.String("name", "", "what the key is for")
	role := fs.String("role", "manager", "role the key acts with: admin, manager, ldr, ae, csm, partner")
	forEmail := fs.String("user", "", "the member the key acts for (required for a partner key, which sees only their records); the key stops working when they leave")
	id := fs.Int64("id", 0, "key id (revoke)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := config.Load(fs, &cfg, rest); err != nil {
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
	act := cliActor(w.ID)
	switch verb {
	case "create":
		var forUser int64
		if *forEmail != "" {
			u, err := a.St.Read().UserByEmail(ctx, auth.NormalizeEmail(*forEmail))
			if err != nil {
				return fmt.Errorf("--user %s: %w", *forEmail, err)
			}
			forUser = u.ID
		}
		k, secret, err := a.Auth.CreateAPIKeyFor(ctx, act, *name, *role, forUser)
		if err != nil {
			return err
		}
		if *asJSON {
			return e.printJSON(map[string]any{"key": k, "secret": secret})
		}
		fmt.Fprintf(e.stdout, "Created key %d (%s, role %s). Secret, shown once:\n%s\n", k.ID, k.Name, k.Role, secret)
	case "list":
		keys, err := a.St.Read().ListAPIKeys(ctx, w.ID)
		if err != nil {
			return err
		}
		if *asJSON {
			return e.printJSON(keys)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tPREFIX\tNAME\tROLE\tCREATED\tSTATUS")
		for _, k := range keys {
			status := "active"
			if k.RevokedAt != nil {
				status = "revoked " + k.RevokedAt.Format("2006-01-02")
			}
			fmt.Fprintf(tw, "%d\t%s…\t%s\t%s\t%s\t%s\n", k.ID, k.Prefix, k.Name, k.Role, k.CreatedAt.Format("2006-01-02"), status)
		}
		return tw.Flush()
	case "revoke":
		if *id == 0 {
			return usagef("--id is required")
		}
		if err := a.Auth.RevokeAPIKey(ctx, act, *id); err != nil {
			if err == store.ErrNotFound {
				return fmt.Errorf("no active key %d in workspace %s", *id, w.Slug)
			}
			return err
		}
		if *asJSON {
			return e.printJSON(map[string]any{"revoked": *id})
		}
		fmt.Fprintf(e.stdout, "Revoked key %s.\n", strconv.FormatInt(*id, 10))
	}
	return nil
}

var _ = crm.Audit
