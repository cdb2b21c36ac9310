package bench

import "context"

func runIdle(ctx context.Context, o Options, r *Result) error { return ErrNotAvailable }
