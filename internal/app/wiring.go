package app

import (
	"context"
	"errors"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/tracking"
)

// formsTracking lets forms stitch a submitting visitor's browsing to the
// contact, and find the contact of a returning visitor for progressive
// profiling, without forms depending on tracking.
type formsTracking struct{ t *tracking.Service }

func (f formsTracking) Stitch(ctx context.Context, q store.Q, ws int64, visitorID string, contactID int64) error {
	_, err := f.t.Stitch(ctx, q, ws, visitorID, contactID)
	return err
}

func (f formsTracking) ContactForVisitor(ctx context.Context, q store.Q, ws int64, visitorID string) (*model.Contact, error) {
	m, err := q.StitchedVisitors(ctx, ws, []string{visitorID})
	if err != nil {
		return nil, err
	}
	id, ok := m[visitorID]
	if !ok {
		return nil, nil
	}
	c, err := q.GetContact(ctx, ws, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &c, nil
}
