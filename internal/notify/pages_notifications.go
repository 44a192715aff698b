package notify

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/console"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/notify/content"
	"github.com/commons-gov/commons/internal/web"
)

// The sent messages pages: a search by recipient, reference, status and type, a page at a
// time, and one message with everything that happened to it.

// notificationsPageSize is how many messages one page of the search shows.
const notificationsPageSize = 50

// searchStatusGroups are the status filter's choices: what people ask about, not every status.
var searchStatusGroups = []web.Option{
	{Value: "", Label: "Any status"},
	{Value: "sending", Label: "Sending"},
	{Value: "delivered", Label: "Delivered"},
	{Value: "failed", Label: "Failed"},
	{Value: "cancelled", Label: "Cancelled"},
}

// searchStatuses lists the stored statuses in a status filter group.
func searchStatuses(group string) []string {
	var want dashboardOutcome
	switch group {
	case "sending":
		want = dashSending
	case "delivered":
		want = dashDelivered
	case "failed":
		want = dashFailed
	case "cancelled":
		want = dashCancelled
	default:
		return nil
	}
	var out []string
	for _, s := range shownStatuses {
		if dashboardOutcomeOf(s) == want {
			out = append(out, s)
		}
	}
	return out
}

var shownStatuses = []string{
	StatusCreated, StatusSending, StatusSent, StatusDelivered, StatusPending, StatusTechnicalFailure,
	StatusTemporaryFailure, StatusPermanentFailure, StatusPendingVirusCheck, StatusValidationFailed,
	StatusVirusScanFailed, StatusReturnedLetter, StatusCancelled,
}

// shownStatusTag labels a message's status as a person would say it.
func shownStatusTag(typ Channel, status string) *web.Tag {
	text, colour := shownStatusLabel(typ, status)
	return &web.Tag{Text: text, Colour: colour}
}

func shownStatusLabel(typ Channel, status string) (string, string) {
	if typ == Letter {
		switch status {
		case StatusCreated:
			return "Waiting to be printed", "blue"
		case StatusSending:
			return "Sent to the printer", "light-blue"
		case StatusDelivered:
			return "Printed and posted", "green"
		}
	}
	switch status {
	case StatusCreated:
		return "Queued", "grey"
	case StatusSending, StatusPending:
		return "Sending", "light-blue"
	case StatusPendingVirusCheck:
		return "Checking for viruses", "light-blue"
	case StatusSent:
		return "Sent", "green"
	case StatusDelivered:
		return "Delivered", "green"
	case StatusPermanentFailure:
		switch typ {
		case Email:
			return "Email address does not exist", "red"
		case SMS:
			return "Phone number does not exist", "red"
		}
		return "Permanent failure", "red"
	case StatusTemporaryFailure:
		switch typ {
		case Email:
			return "Inbox not accepting messages right now", "red"
		case SMS:
			return "Phone not accepting messages right now", "red"
		}
		return "Temporary failure", "red"
	case StatusTechnicalFailure:
		return "Technical failure", "red"
	case StatusValidationFailed:
		return "Validation failed", "red"
	case StatusVirusScanFailed:
		return "Virus found", "red"
	case StatusReturnedLetter:
		return "Returned", "red"
	case StatusCancelled:
		return "Cancelled", "grey"
	}
	return status, ""
}

// sentMessageRow is one row of the search.
type sentMessageRow struct {
	ID, Recipient, Status, Reference, TemplateName string
	Type                                           Channel
	KeyType                                        apiauth.KeyType
	CreatedAt                                      time.Time
}

// To is the recipient on one line: a letter's address is shown by its first line.
func (m sentMessageRow) To() string {
	first, _, _ := strings.Cut(m.Recipient, "\n")
	return first
}

// Test reports whether a test key sent it: nothing was really sent.
func (m sentMessageRow) Test() bool { return m.KeyType == apiauth.Test }

type notificationsPage struct {
	notifyPage
	*web.Form
	Statuses []web.Option
	Types    []web.Option
	Messages []sentMessageRow
	Next     string
	First    bool
	Filtered bool
}

// notificationSearch is the search form, as the query reads it.
type notificationSearch struct {
	To, Reference, Status string
	Type                  Channel
	Before                string
}

func (p *consolePages) notificationsPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	q := r.URL.Query()
	f := web.NewForm()
	for _, k := range []string{"to", "reference", "status", "type"} {
		f.Set(k, q.Get(k))
	}
	search := notificationSearch{To: f.Get("to"), Reference: f.Get("reference"), Status: f.Get("status"),
		Type: Channel(f.Get("type")), Before: q.Get("before")}
	data := notificationsPage{notifyPage: newNotifyPage(pc, "notifications"), Form: f, Statuses: searchStatusGroups,
		First: search.Before == "", Filtered: search.To != "" || search.Reference != "" || search.Status != "" || search.Type != ""}
	data.Types = []web.Option{{Value: "", Label: "Any type"}}
	for _, c := range consoleChannelOrder {
		data.Types = append(data.Types, web.Option{Value: string(c), Label: shownChannelPlural(c)})
	}
	if search.Status != "" && searchStatuses(search.Status) == nil {
		f.AddError("status", "Select a status from the list")
	}
	if search.Type != "" && !search.Type.Valid() {
		f.AddError("type", "Select a type of message from the list")
	}
	if !f.Valid() {
		return p.renderInvalid(w, r, "notifications", data)
	}
	list, err := p.searchNotifications(r.Context(), pc.Service.ID, search, notificationsPageSize+1)
	if err != nil {
		return err
	}
	if len(list) > notificationsPageSize {
		list = list[:notificationsPageSize]
		next := url.Values{}
		for _, k := range []string{"to", "reference", "status", "type"} {
			if v := f.Get(k); v != "" {
				next.Set(k, v)
			}
		}
		next.Set("before", list[len(list)-1].ID)
		data.Next = data.Base() + "/notifications?" + next.Encode()
	}
	data.Messages = list
	return p.render(w, r, "notifications", data)
}

// searchNotifications returns up to limit of a service's messages matching search, newest
// first. A recipient that reads as an email address or a phone number matches the form Notify
// stores recipients in, so "Person@Example.com" and "07700 900123" find what was sent; any
// other text matches part of the recipient (a letter's address, say).
func (p *consolePages) searchNotifications(ctx context.Context, serviceID string, s notificationSearch, limit int) ([]sentMessageRow, error) {
	q := `SELECT n.id, n.notification_type, n.recipient, n.status, COALESCE(n.client_reference, ''), n.key_type,
		n.created_at, COALESCE(t.name, '')
		FROM notify_notifications n LEFT JOIN notify_templates t ON t.id = n.template_id AND t.service_id = n.service_id
		WHERE n.service_id = ?`
	args := []any{serviceID}
	if s.To != "" {
		if addr, err := content.ValidateEmail(s.To); err == nil {
			q += ` AND n.normalised_to = ?`
			args = append(args, addr)
		} else if phone, err := content.ParsePhone(s.To); err == nil {
			q += ` AND n.normalised_to = ?`
			args = append(args, phone.Normalised)
		} else {
			q += ` AND LOWER(n.recipient) LIKE ? ESCAPE '\'`
			args = append(args, "%"+escapeLikePattern(strings.ToLower(s.To))+"%")
		}
	}
	if s.Reference != "" {
		q += ` AND n.client_reference = ?`
		args = append(args, s.Reference)
	}
	if statuses := searchStatuses(s.Status); statuses != nil {
		q += ` AND n.status IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(statuses)), ", ") + `)`
		for _, st := range statuses {
			args = append(args, st)
		}
	}
	if s.Type != "" {
		q += ` AND n.notification_type = ?`
		args = append(args, string(s.Type))
	}
	if s.Before != "" {
		var at time.Time
		err := p.s.db.QueryRow(ctx, `SELECT created_at FROM notify_notifications WHERE id = ? AND service_id = ?`,
			s.Before, serviceID).Scan(&at)
		if db.IsNoRows(err) {
			return nil, errConsolePageNotFound
		}
		if err != nil {
			return nil, fmt.Errorf("search notifications: %w", err)
		}
		q += ` AND (n.created_at < ? OR (n.created_at = ? AND n.id < ?))`
		args = append(args, at, at, s.Before)
	}
	q += ` ORDER BY n.created_at DESC, n.id DESC LIMIT ` + strconv.Itoa(limit)
	rows, err := p.s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("search notifications: %w", err)
	}
	defer rows.Close()
	var out []sentMessageRow
	for rows.Next() {
		var m sentMessageRow
		var typ, keyType string
		if err := rows.Scan(&m.ID, &typ, &m.Recipient, &m.Status, &m.Reference, &keyType, &m.CreatedAt, &m.TemplateName); err != nil {
			return nil, fmt.Errorf("search notifications: %w", err)
		}
		m.Type, m.KeyType = Channel(typ), apiauth.KeyType(keyType)
		out = append(out, m)
	}
	return out, rows.Err()
}

// escapeLikePattern makes text match itself in a LIKE pattern.
func escapeLikePattern(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// shownStatusEvent is one change of a message's status.
type shownStatusEvent struct {
	Status, Detail string
	CreatedAt      time.Time
}

// sentMessageDetail is one message as its page shows it.
type sentMessageDetail struct {
	sentMessageRow
	TemplateID      string
	TemplateVersion int
	Subject, Body   string
	Postage         string
	ReplyTo, Sender string
	CreatedBy       string
	SentAt          *time.Time
	UpdatedAt       *time.Time
	ScheduledFor    *time.Time
	// Precompiled is a letter the service sent as a PDF: its template is Notify's own, hidden one.
	Precompiled bool
}

// AddressLines is a letter's address, a line each.
func (m sentMessageDetail) AddressLines() []string { return strings.Split(m.Recipient, "\n") }

type notificationPage struct {
	notifyPage
	Message  sentMessageDetail
	Events   []shownStatusEvent
	Attempts []recordedCallbackAttempt
}

var errMessageNotFound = failure.New(failure.NotFound, "Message not found")

func (p *consolePages) notificationPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	ctx := r.Context()
	m, err := p.sentMessageDetail(ctx, pc.Service.ID, r.PathValue("notification"))
	if err != nil {
		return err
	}
	events, err := p.statusEvents(ctx, pc.Service.ID, m.ID)
	if err != nil {
		return err
	}
	attempts, err := p.readCallbackAttempts(ctx, pc.Service.ID, m.ID, "", 100)
	if err != nil {
		return err
	}
	return p.render(w, r, "notification", notificationPage{notifyPage: newNotifyPage(pc, "notifications"), Message: m, Events: events, Attempts: attempts})
}

func (p *consolePages) sentMessageDetail(ctx context.Context, serviceID, id string) (sentMessageDetail, error) {
	var m sentMessageDetail
	var typ, keyType string
	var sent, updated, scheduled sql.NullTime
	var hidden sql.NullBool
	err := p.s.db.QueryRow(ctx, `SELECT n.id, n.notification_type, n.recipient, n.status, COALESCE(n.client_reference, ''),
		n.key_type, n.created_at, COALESCE(t.name, ''), n.template_id, n.template_version, COALESCE(n.subject, ''), n.body,
		COALESCE(n.postage, ''), COALESCE(n.reply_to, ''), COALESCE(n.sender, ''), COALESCE(n.created_by_name, ''),
		n.sent_at, n.updated_at, n.scheduled_for, t.hidden
		FROM notify_notifications n LEFT JOIN notify_templates t ON t.id = n.template_id AND t.service_id = n.service_id
		WHERE n.id = ? AND n.service_id = ?`, id, serviceID).Scan(
		&m.ID, &typ, &m.Recipient, &m.Status, &m.Reference, &keyType, &m.CreatedAt, &m.TemplateName, &m.TemplateID,
		&m.TemplateVersion, &m.Subject, &m.Body, &m.Postage, &m.ReplyTo, &m.Sender, &m.CreatedBy, &sent, &updated, &scheduled, &hidden)
	if db.IsNoRows(err) {
		return sentMessageDetail{}, errMessageNotFound
	}
	if err != nil {
		return sentMessageDetail{}, fmt.Errorf("message: %w", err)
	}
	m.Type, m.KeyType = Channel(typ), apiauth.KeyType(keyType)
	m.Precompiled = hidden.Bool
	m.SentAt, m.UpdatedAt, m.ScheduledFor = consoleOptionalTime(sent), consoleOptionalTime(updated), consoleOptionalTime(scheduled)
	return m, nil
}

// consoleOptionalTime is a nullable column's time in UTC, or nil.
func consoleOptionalTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// maxShownStatusEvents bounds a message's history; a message changes status a handful of times.
const maxShownStatusEvents = 100

func (p *consolePages) statusEvents(ctx context.Context, serviceID, id string) ([]shownStatusEvent, error) {
	rows, err := p.s.db.Query(ctx, `SELECT status, detail, created_at FROM notify_status_events
		WHERE notification_id = ? AND service_id = ? ORDER BY id LIMIT `+strconv.Itoa(maxShownStatusEvents), id, serviceID)
	if err != nil {
		return nil, fmt.Errorf("status history: %w", err)
	}
	defer rows.Close()
	var out []shownStatusEvent
	for rows.Next() {
		var e shownStatusEvent
		if err := rows.Scan(&e.Status, &e.Detail, &e.CreatedAt); err != nil {
			return nil, fmt.Errorf("status history: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
