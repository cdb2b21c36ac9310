package api

import (
	"net/http"
	"time"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/funnel"
	"github.com/rightsize/rightsize/internal/httpx"
)

// defaultFunnelDays is the window when from is left out: this many days ending on to.
const defaultFunnelDays = 90

func getFunnelReport(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	v, err := onlyParams(r, "from", "to", "by", "period")
	if err != nil {
		return err
	}
	date := func(name string, def time.Time) (time.Time, error) {
		s := v.Get(name)
		if s == "" {
			return def, nil
		}
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return t, badField(name, "must be a date, YYYY-MM-DD")
		}
		return t, nil
	}
	to, err := date("to", time.Now().UTC())
	if err != nil {
		return err
	}
	from, err := date("from", to.AddDate(0, 0, 1-defaultFunnelDays))
	if err != nil {
		return err
	}
	by := v.Get("by")
	if by == "" {
		by = "motion"
	}
	res, err := funnel.Report(r.Context(), a.d.St, p.WorkspaceID, funnel.Params{From: from, To: to, By: by, Period: v.Get("period")})
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, res)
	return nil
}
