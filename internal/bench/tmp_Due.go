package bench

import "context"

func runDue(ctx context.Context, o Options, r *Result) error { return ErrNotAvailable }
