package app

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/mail"
)

// wireAuth hands auth the mail layer for password reset links (system mail
// from config mail_from) and seals DKIM keys left in plain text by a version
// from before sealing (docs/security-sessions.md).
func wireAuth(ctx context.Context, a *App) error {
	a.Mail.SystemFrom = a.Cfg.MailFrom
	a.Auth.Mailer = a.Mail
	n, err := a.Mail.SealPlainDKIMKeys(ctx)
	if n > 0 {
		a.Log.Info("sealed DKIM keys stored in plain text", "workspaces", n)
	}
	return err
}

// addAuthWorkers registers system mail delivery (a run per planned message and
// a periodic one for retries, expiry and recovery) and the auth sweep.
func addAuthWorkers(a *App, workers *river.Workers, rcfg *river.Config) {
	river.AddWorker(workers, &mail.SystemDeliverWorker{Svc: a.Mail})
	river.AddWorker(workers, &auth.SweepWorker{Svc: a.Auth})
	rcfg.PeriodicJobs = append(rcfg.PeriodicJobs, mail.SystemDeliverPeriodicJob(time.Minute), auth.SweepPeriodicJob(time.Hour))
}
