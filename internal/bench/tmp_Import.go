package bench

import "context"

func runImport(ctx context.Context, o Options, r *Result) error { return ErrNotAvailable }
