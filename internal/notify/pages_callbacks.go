package notify

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/commons-gov/commons/internal/console"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/web"
)

// The callback pages: where Notify tells a service about deliveries and received messages,
// and every attempt to do so. A bearer token is never shown again once saved: the form leaves
// it blank, and a blank token keeps the one saved.

// callbackTypeLabels describe each kind of callback.
var callbackTypeLabels = map[string][2]string{
	CallbackDeliveryStatus: {"Delivery receipts", "When an email or text message is delivered or fails"},
	CallbackInboundSMS:     {"Received text messages", "When someone replies to one of your text message numbers"},
	CallbackReturnedLetter: {"Returned letters", "When a letter comes back undelivered"},
	CallbackComplaint:      {"Email complaints", "When someone marks one of your emails as spam"},
}

func callbackTypeLabel(t string) string {
	if l, ok := callbackTypeLabels[t]; ok {
		return l[0]
	}
	return t
}

// callbackSettingRow is one kind of callback and where it goes, if anywhere.
type callbackSettingRow struct {
	Type, Label, Hint, URL string
}

func (p *consolePages) callbackRows(ctx context.Context, serviceID string) ([]callbackSettingRow, error) {
	set, err := p.s.Callbacks(ctx, serviceID)
	if err != nil {
		return nil, err
	}
	rows := make([]callbackSettingRow, len(CallbackTypes))
	for i, t := range CallbackTypes {
		rows[i] = callbackSettingRow{Type: t, Label: callbackTypeLabels[t][0], Hint: callbackTypeLabels[t][1]}
		for _, c := range set {
			if c.Type == t {
				rows[i].URL = c.URL
			}
		}
	}
	return rows, nil
}

// callbackFromPath returns the callback type in the URL and the service's callback of that
// type, if it has one.
func (p *consolePages) callbackFromPath(r *http.Request, pc console.PageContext) (string, *Callback, error) {
	t := r.PathValue("type")
	if !slices.Contains(CallbackTypes, t) {
		return "", nil, errConsolePageNotFound
	}
	c, ok, err := p.s.CallbackFor(r.Context(), p.s.db, pc.Service.ID, t)
	if err != nil || !ok {
		return t, nil, err
	}
	return t, &c, nil
}

type callbackFormPage struct {
	notifyFormPage
	Type, Label, Hint string
	Existing          bool
}

func (p *consolePages) callbackPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseIfArchived(pc); err != nil {
		return err
	}
	t, existing, err := p.callbackFromPath(r, pc)
	if err != nil {
		return err
	}
	f := web.NewForm()
	if existing != nil {
		f.Set("url", existing.URL)
	}
	return p.render(w, r, "settings-callback", callbackFormPage{notifyFormPage: notifyFormPage{notifyPage: newNotifyPage(pc, "settings"), Form: f},
		Type: t, Label: callbackTypeLabel(t), Hint: callbackTypeLabels[t][1], Existing: existing != nil})
}

func (p *consolePages) saveCallback(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseIfArchived(pc); err != nil {
		return err
	}
	t, existing, err := p.callbackFromPath(r, pc)
	if err != nil {
		return err
	}
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	token := f.Raw("bearer_token")
	f.Forget("bearer_token")
	if token == "" && existing != nil {
		token = existing.BearerToken
	}
	data := callbackFormPage{notifyFormPage: notifyFormPage{notifyPage: newNotifyPage(pc, "settings"), Form: f},
		Type: t, Label: callbackTypeLabel(t), Hint: callbackTypeLabels[t][1], Existing: existing != nil}
	err = p.s.SetCallback(r.Context(), Callback{ServiceID: pc.Service.ID, Type: t, URL: f.Get("url"), BearerToken: token})
	if err != nil {
		if !failInOrder(f, err, "url", "url", "bearer_token") {
			return err
		}
		return p.renderInvalid(w, r, "settings-callback", data)
	}
	return redirectWithFlash(w, r, data.Base()+"/settings", "Callback saved: "+callbackTypeLabel(t))
}

type callbackRemovePage struct {
	notifyPage
	Type, Label, URL string
}

func (p *consolePages) removeCallbackPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseIfArchived(pc); err != nil {
		return err
	}
	t, existing, err := p.callbackFromPath(r, pc)
	if err != nil {
		return err
	}
	if existing == nil {
		return failure.New(failure.NotFound, "This callback is not set")
	}
	return p.render(w, r, "settings-callback-remove", callbackRemovePage{notifyPage: newNotifyPage(pc, "settings"), Type: t, Label: callbackTypeLabel(t), URL: existing.URL})
}

func (p *consolePages) removeCallback(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseIfArchived(pc); err != nil {
		return err
	}
	t, existing, err := p.callbackFromPath(r, pc)
	if err != nil {
		return err
	}
	if existing == nil {
		return failure.New(failure.NotFound, "This callback is not set")
	}
	if err := p.s.RemoveCallback(r.Context(), pc.Service.ID, t); err != nil {
		return err
	}
	return redirectWithFlash(w, r, notifyBase(pc)+"/settings", "Callback removed: "+callbackTypeLabel(t))
}

// callbackAttemptsPageSize is how many attempts one page of the log shows.
const callbackAttemptsPageSize = 50

// recordedCallbackAttempt is one try at calling a service back.
type recordedCallbackAttempt struct {
	ID, Type, SubjectID, URL, Error string
	Attempt, DurationMS             int
	StatusCode                      int // 0 when no response came
	CreatedAt                       time.Time
}

// Outcome says what the service answered, for the log.
func (a recordedCallbackAttempt) Outcome() string {
	switch {
	case a.StatusCode != 0 && a.Error != "":
		return fmt.Sprintf("HTTP %d: %s", a.StatusCode, a.Error)
	case a.StatusCode != 0:
		return "HTTP " + strconv.Itoa(a.StatusCode)
	case a.Error != "":
		return "No response: " + a.Error
	}
	return "No response"
}

// Succeeded reports whether the service accepted the callback.
func (a recordedCallbackAttempt) Succeeded() bool { return a.StatusCode >= 200 && a.StatusCode < 300 }

type callbackAttemptsPage struct {
	notifyPage
	Attempts []recordedCallbackAttempt
	Next     string
	First    bool
}

// callbackAttempts lists the service's callback attempts, newest first, a page at a time.
func (p *consolePages) callbackAttempts(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	before := r.URL.Query().Get("before")
	list, err := p.readCallbackAttempts(r.Context(), pc.Service.ID, "", before, callbackAttemptsPageSize+1)
	if err != nil {
		return err
	}
	data := callbackAttemptsPage{notifyPage: newNotifyPage(pc, "settings"), First: before == ""}
	if len(list) > callbackAttemptsPageSize {
		list = list[:callbackAttemptsPageSize]
		data.Next = data.Base() + "/settings/callbacks/attempts?before=" + list[len(list)-1].ID
	}
	data.Attempts = list
	return p.render(w, r, "settings-callback-attempts", data)
}

// readCallbackAttempts reads up to limit of a service's callback attempts, newest first:
// about one notification when subjectID is set, and after the attempt before when that is set.
func (p *consolePages) readCallbackAttempts(ctx context.Context, serviceID, subjectID, before string, limit int) ([]recordedCallbackAttempt, error) {
	q := `SELECT id, callback_type, subject_id, attempt, url, status_code, error, duration_ms, created_at
		FROM notify_callback_attempts WHERE service_id = ?`
	args := []any{serviceID}
	if subjectID != "" {
		q += ` AND subject_id = ?`
		args = append(args, subjectID)
	}
	if before != "" {
		var at time.Time
		err := p.s.db.QueryRow(ctx, `SELECT created_at FROM notify_callback_attempts WHERE id = ? AND service_id = ?`,
			before, serviceID).Scan(&at)
		if err != nil {
			if db.IsNoRows(err) {
				return nil, errConsolePageNotFound
			}
			return nil, fmt.Errorf("callback attempts: %w", err)
		}
		q += ` AND (created_at < ? OR (created_at = ? AND id < ?))`
		args = append(args, at, at, before)
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT ` + strconv.Itoa(limit)
	rows, err := p.s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("callback attempts: %w", err)
	}
	defer rows.Close()
	var out []recordedCallbackAttempt
	for rows.Next() {
		var a recordedCallbackAttempt
		var code sql.NullInt64
		if err := rows.Scan(&a.ID, &a.Type, &a.SubjectID, &a.Attempt, &a.URL, &code, &a.Error, &a.DurationMS, &a.CreatedAt); err != nil {
			return nil, fmt.Errorf("callback attempts: %w", err)
		}
		a.StatusCode = int(code.Int64)
		out = append(out, a)
	}
	return out, rows.Err()
}
