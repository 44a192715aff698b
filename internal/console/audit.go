package console

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/web"
)

// auditPageSize is how many events one page of the audit log shows.
const auditPageSize = 50

// auditActions are the console's own filters people choose from: kinds of thing, matched as
// prefixes. Other platforms add theirs with AddAuditActions.
var auditActions = []web.Option{
	{Value: "", Label: "All activity"},
	{Value: "service.", Label: "Service settings"},
	{Value: "member.", Label: "Team members"},
	{Value: "api_key.", Label: "API keys"},
}

// auditWords describe each tenancy action in the audit table.
var auditWords = map[string]string{
	"service.created":             "Created the service",
	"service.renamed":             "Renamed the service",
	"service.made_live":           "Made the service live",
	"service.made_trial":          "Switched the service to trial mode",
	"service.permissions_changed": "Changed platform permissions",
	"service.archived":            "Archived the service",
	"member.added":                "Added a team member",
	"member.invited":              "Invited a team member",
	"member.permissions_changed":  "Changed a team member’s permissions",
	"member.removed":              "Removed a team member",
	"api_key.created":             "Created an API key",
	"api_key.revoked":             "Revoked an API key",
}

// AuditActions are a platform's part of the audit log page: which of its kinds of change
// people can filter by, and what each of its actions means in words.
type AuditActions struct {
	// Filters are offered after the console's own; each Value is an action prefix ending in
	// "." ("notify.template.").
	Filters []web.Option
	// Words describe actions by their full name; an action without words is shown by name.
	Words map[string]string
}

// AddAuditActions adds a platform's actions to the audit log page. Call it while the
// application is being assembled, before the console serves requests.
func (c *Console) AddAuditActions(a AuditActions) {
	c.auditFilters = append(c.auditFilters, a.Filters...)
	for action, words := range a.Words {
		c.auditWords[action] = words
	}
}

type auditPage struct {
	chrome
	*web.Form
	Actions []web.Option
	Table   web.Table
	Next    string // the link to the next (older) page, when there is one
	First   bool
}

// audit lists a service's audit log, newest first, filtered by the GET form on the page.
func (c *Console) audit(w http.ResponseWriter, r *http.Request, s *session, sc *serviceContext) error {
	q := r.URL.Query()
	f := web.NewForm()
	for _, k := range []string{"action", "actor", "from", "to"} {
		f.Set(k, q.Get(k))
	}
	filter := platform.AuditFilter{Action: f.Get("action"), ActorLabel: f.Get("actor"), Limit: auditPageSize,
		Before: q.Get("before")}
	if !slices.ContainsFunc(c.auditFilters, func(o web.Option) bool { return o.Value == filter.Action }) {
		f.AddError("action", "Select the kind of activity from the list")
	}
	var err error
	if filter.Since, err = parseDay(f.Get("from")); err != nil {
		f.AddError("from", "Enter the ‘from’ date as a real date, like 2025-06-30")
	}
	if filter.Until, err = parseDay(f.Get("to")); err != nil {
		f.AddError("to", "Enter the ‘to’ date as a real date, like 2025-06-30")
	} else if !filter.Until.IsZero() {
		filter.Until = filter.Until.AddDate(0, 0, 1) // the 'to' day is included
	}
	page := auditPage{chrome: c.chrome(s, sc, "audit"), Form: f, Actions: c.auditFilters, First: filter.Before == "",
		Table: web.Table{Head: []string{"When", "Who", "What", "Target"}}}
	if !f.Valid() {
		return c.renderInvalid(w, r, "audit", page)
	}
	events, err := c.store.AuditLog(r.Context(), sc.service.ID, filter)
	if err != nil {
		if !f.Fail(err, "action") {
			return err
		}
		return c.renderInvalid(w, r, "audit", page)
	}
	for _, e := range events {
		page.Table.Rows = append(page.Table.Rows, []web.Cell{
			{Text: web.FormatTime(e.CreatedAt)}, {Text: e.ActorLabel}, {Text: c.describeAction(e.Action)}, {Text: auditTarget(e)},
		})
	}
	if len(events) == auditPageSize {
		next := url.Values{"before": {events[len(events)-1].ID}}
		for _, k := range []string{"action", "actor", "from", "to"} {
			if v := f.Get(k); v != "" {
				next.Set(k, v)
			}
		}
		page.Next = "/admin/services/" + sc.service.ID + "/audit?" + next.Encode()
	}
	return c.render(w, r, "audit", page)
}

// parseDay reads a yyyy-mm-dd date (what a date input sends) as midnight UK time; "" is no
// date.
func parseDay(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, err
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, london), nil
}

func (c *Console) describeAction(action string) string {
	if w, ok := c.auditWords[action]; ok {
		return w
	}
	return action
}

// auditTarget names what an event was about in words people recognise: the key's or
// service's name, the member's email address.
func auditTarget(e platform.AuditEvent) string {
	for _, k := range []string{"email", "name"} {
		if v, ok := e.Details[k].(string); ok && v != "" {
			return v
		}
	}
	if e.TargetID == "" {
		return e.TargetType
	}
	return fmt.Sprintf("%s %s", e.TargetType, e.TargetID)
}
