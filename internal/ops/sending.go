package ops

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Sending answers whether the install may send and lets an admin resume it
// after a restore.
type Sending struct {
	St *store.Store
	// Resumed, when set, runs in the transaction that confirms, to start
	// what waited (webhook drains for overdue deliveries).
	Resumed func(ctx context.Context, q store.Q) error
}

// SendingStatus is what the banner and GET /api/v1/sending show.
type SendingStatus struct {
	Paused bool       `json:"paused"`
	Reason string     `json:"reason,omitempty"`
	Since  *time.Time `json:"since,omitempty"`
	SetBy  string     `json:"set_by,omitempty"`
}

// Status reads the pause flag.
func (s *Sending) Status(ctx context.Context) (SendingStatus, error) {
	f, err := s.St.Read().AdminFlag(ctx, store.FlagSendingPaused)
	if errors.Is(err, store.ErrNotFound) {
		return SendingStatus{}, nil
	}
	if err != nil {
		return SendingStatus{}, err
	}
	at := f.SetAt
	return SendingStatus{Paused: true, Reason: f.Value, Since: &at, SetBy: f.SetBy}, nil
}

// Confirm resumes sending: mail delivery, sequence dispatch and webhook
// delivery pick up what is due (at their next run; webhooks at once). The
// confirmation is audited in the admin's workspace with the pause it ended.
// Confirming when nothing is paused changes nothing.
func (s *Sending) Confirm(ctx context.Context, act model.Actor) (SendingStatus, error) {
	err := s.St.InTx(ctx, func(q store.Q) error {
		f, err := q.AdminFlag(ctx, store.FlagSendingPaused)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := q.AdminClearFlag(ctx, store.FlagSendingPaused); err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]any{"paused_because": f.Value, "paused_since": f.SetAt})
		ws := act.Workspace
		if err := q.Audit(ctx, model.AuditEntry{WorkspaceID: &ws, UserID: act.UserID, APIKeyID: act.APIKeyID, Action: "sending_resume", TargetType: "instance", Detail: detail, IP: act.IP}); err != nil {
			return err
		}
		if s.Resumed != nil {
			return s.Resumed(ctx, q)
		}
		return nil
	})
	if err != nil {
		return SendingStatus{}, err
	}
	return s.Status(ctx)
}
