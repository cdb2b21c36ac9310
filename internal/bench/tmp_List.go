package bench

import "context"

func runList(ctx context.Context, o Options, r *Result) error { return ErrNotAvailable }
