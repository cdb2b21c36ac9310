package bench

import "context"

func runIngest(ctx context.Context, o Options, r *Result) error { return ErrNotAvailable }
