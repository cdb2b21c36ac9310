package model

import "time"

// Form kinds: what a submission does besides writing the contact. signup and
// newsletter capture a lead; gated_content also hands over an asset;
// trial_request and contact_sales are the buyer raising a hand (PRODUCT.md §3):
// the contact becomes an opportunity with a deal in the digital pipeline and an AE.
var FormKinds = []string{"signup", "newsletter", "gated_content", "trial_request", "contact_sales"}

// Form is an embeddable form. Key is its public identifier (in customers'
// pages); the workspace is never taken from the client.
type Form struct {
	ID   int64  `json:"id"`
	Key  string `json:"key"`
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Fields are asked every time, in order; email is always one of them.
	Fields []FormField `json:"fields"`
	// Progressive are asked, in order, once the visitor is a known contact: the
	// next ones the contact has not answered yet (progressive profiling).
	Progressive []FormField `json:"progressive"`
	// ConsentText, when set, is shown with a checkbox the submitter must tick;
	// the contact's consent records ConsentVersion.
	ConsentText    string    `json:"consent_text,omitempty"`
	ConsentVersion string    `json:"consent_version,omitempty"`
	DoubleOptIn    bool      `json:"double_opt_in"`
	RedirectURL    string    `json:"redirect_url,omitempty"`
	AllowedOrigins []string  `json:"allowed_origins"`
	AssetID        *int64    `json:"asset_id,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// FormField is one input of a form: a contact field ("first_name") or a
// contact custom field ("custom.team_size").
type FormField struct {
	Field    string `json:"field"`
	Label    string `json:"label,omitempty"`
	Required bool   `json:"required,omitempty"`
}

// Submission is one form post. Status is accepted, pending_confirmation (double
// opt-in not yet confirmed) or spam (kept so counts reconcile; no contact).
type Submission struct {
	ID             int64             `json:"id"`
	FormID         int64             `json:"form_id"`
	Status         string            `json:"status"`
	ContactID      *int64            `json:"contact_id,omitempty"`
	DealID         *int64            `json:"deal_id,omitempty"`
	VisitorID      string            `json:"visitor_id,omitempty"`
	Fields         map[string]string `json:"fields"`
	UTM            map[string]string `json:"utm"`
	ConsentVersion string            `json:"consent_version,omitempty"`
	IP             string            `json:"-"`
	ConfirmedAt    *time.Time        `json:"confirmed_at,omitempty"`
	CreatedAt      time.Time         `json:"created_at"`
}

// AssetTypes and AssetStages describe content library items.
var (
	AssetTypes  = []string{"ebook", "guide", "checklist", "template", "webinar", "case_study", "video", "blog_post", "report"}
	AssetStages = []string{"awareness", "consideration", "decision", "onboarding"}
)

// Asset is a content library item: useful content nurture sends and gated
// forms hand over. Views and downloads count as engagement.
type Asset struct {
	ID      int64  `json:"id"`
	Title   string `json:"title"`
	URL     string `json:"url"`
	Type    string `json:"type"`
	Stage   string `json:"stage,omitempty"`
	Segment string `json:"segment,omitempty"`
	Topic   string `json:"topic,omitempty"`
	// File is the uploaded file the asset serves (nil: the asset is its URL).
	File      *AssetFile `json:"file,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// AssetFile describes an uploaded content file (the bytes live in the
// database, internal/store content_files).
type AssetFile struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}
