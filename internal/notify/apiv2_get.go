package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
)

// GET /v2/notifications/{id} and GET /v2/notifications (notify.md §2.6–2.7).

// apiPageSize is how many notifications or received texts one page holds (API_PAGE_SIZE).
const apiPageSize = 250

const v2NotificationColumns = `id, service_id, template_id, template_version, notification_type, key_type,
	COALESCE(job_id, ''), recipient, COALESCE(personalisation, ''), COALESCE(client_reference, ''), status,
	COALESCE(subject, ''), body, COALESCE(postage, ''), COALESCE(one_click_unsubscribe_url, ''), billable_units,
	rate_multiplier, COALESCE(created_by_name, ''), scheduled_for, created_at, sent_at, updated_at`

func scanV2Notification(row interface{ Scan(...any) error }) (Notification, error) {
	var n Notification
	var typ, keyType, personalisation string
	var scheduled, sent, updated sql.NullTime
	err := row.Scan(&n.ID, &n.ServiceID, &n.TemplateID, &n.TemplateVersion, &typ, &keyType, &n.JobID, &n.Recipient,
		&personalisation, &n.ClientReference, &n.Status, &n.Subject, &n.Body, &n.Postage, &n.UnsubscribeURL,
		&n.BillableUnits, &n.RateMultiplier, &n.CreatedByName, &scheduled, &n.CreatedAt, &sent, &updated)
	if err != nil {
		return n, err
	}
	n.Type, n.KeyType = Channel(typ), apiauth.KeyType(keyType)
	n.CreatedAt = n.CreatedAt.UTC()
	n.ScheduledFor, n.SentAt, n.UpdatedAt = nullTimePtr(scheduled), nullTimePtr(sent), nullTimePtr(updated)
	if personalisation != "" {
		dec := json.NewDecoder(strings.NewReader(personalisation))
		dec.UseNumber()
		_ = dec.Decode(&n.Personalisation)
	}
	return n, nil
}

func nullTimePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// v2Notification reads one of a service's notifications; another service's is not found.
func (s *Service) v2Notification(ctx context.Context, serviceID, id string) (Notification, error) {
	n, err := scanV2Notification(s.db.QueryRow(ctx, `SELECT `+v2NotificationColumns+`
		FROM notify_notifications WHERE id = ? AND service_id = ?`, id, serviceID))
	if db.IsNoRows(err) {
		return Notification{}, errNoResult()
	}
	if err != nil {
		return Notification{}, fmt.Errorf("notification: %w", err)
	}
	return n, nil
}

// notificationIDFromPath validates the {id} of a notification path.
func notificationIDFromPath(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if !validUUID(id) {
		return "", validationError("notification_id is not a valid UUID")
	}
	return canonicalUUID(id), nil
}

// getNotification answers whatever key type sent the notification, as GOV.UK Notify does.
func (s *Service) getNotification(w http.ResponseWriter, r *http.Request, caller apiauth.Identity) error {
	id, err := notificationIDFromPath(r)
	if err != nil {
		return err
	}
	n, err := s.v2Notification(r.Context(), caller.ServiceID, id)
	if err != nil {
		return err
	}
	writeV2JSON(w, http.StatusOK, notificationJSON(urlRoot(r), n))
	return nil
}

// Statuses a list may filter on: the stored ones and the letter names accepted and received.
var listStatuses = []string{StatusCancelled, StatusCreated, StatusSending, StatusSent, StatusDelivered, StatusPending,
	"failed", StatusTechnicalFailure, StatusTemporaryFailure, StatusPermanentFailure, StatusPendingVirusCheck,
	StatusValidationFailed, StatusVirusScanFailed, StatusReturnedLetter, "accepted", "received"}

// failedStatuses is what "failed" means in a filter.
var failedStatuses = []string{StatusTechnicalFailure, StatusTemporaryFailure, StatusPermanentFailure,
	StatusValidationFailed, StatusVirusScanFailed, StatusReturnedLetter}

var listNotificationsSchema = requestSchema{fields: []fieldRule{
	{name: "reference", kind: ruleString},
	{name: "status", kind: ruleArrayOfEnum, values: listStatuses},
	{name: "template_type", kind: ruleArrayOfEnum, values: []string{"sms", "email", "letter"}},
	{name: "include_jobs", kind: ruleEnum, values: []string{"true", "True"}},
	{name: "older_than", kind: ruleUUID},
}}

// orderedQuery is a query string as its keys first appeared, values kept per key, so that
// the links can repeat it in the order the client wrote it.
type orderedQuery struct {
	keys   []string
	values map[string][]string
}

func parseOrderedQuery(raw string) orderedQuery {
	q := orderedQuery{values: map[string][]string{}}
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			continue
		}
		if _, seen := q.values[k]; !seen {
			q.keys = append(q.keys, k)
		}
		q.values[k] = append(q.values[k], v)
	}
	return q
}

func (q orderedQuery) set(k, v string) orderedQuery {
	out := orderedQuery{keys: slices.Clone(q.keys), values: map[string][]string{}}
	maps.Copy(out.values, q.values)
	if _, ok := out.values[k]; !ok {
		out.keys = append(out.keys, k)
	}
	out.values[k] = []string{v}
	return out
}

func (q orderedQuery) encode() string {
	var parts []string
	for _, k := range q.keys {
		for _, v := range q.values[k] {
			parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
		}
	}
	return strings.Join(parts, "&")
}

func (s *Service) listNotifications(w http.ResponseWriter, r *http.Request, caller apiauth.Identity) error {
	q := parseOrderedQuery(r.URL.RawQuery)
	// Only the first value of the single-valued parameters counts.
	for _, single := range []string{"older_than", "reference", "include_jobs"} {
		if vals := q.values[single]; len(vals) > 1 {
			q.values[single] = vals[:1]
		}
	}
	doc := map[string]any{}
	for _, k := range q.keys {
		switch k {
		case "status", "template_type":
			doc[k] = stringsToAny(q.values[k])
		default:
			doc[k] = q.values[k][0]
		}
	}
	if msgs := listNotificationsSchema.validate(doc, schemaContext{}); len(msgs) > 0 {
		return validationError(msgs...)
	}
	if v, ok := q.values["older_than"]; ok {
		q.values["older_than"] = []string{canonicalUUID(v[0])}
	}
	list, err := s.listV2Notifications(r.Context(), caller, q)
	if err != nil {
		return err
	}
	root := urlRoot(r)
	base := root + "/v2/notifications"
	links := map[string]string{"current": withQuery(base, q.encode())}
	if len(list) > 0 {
		links["next"] = withQuery(base, q.set("older_than", list[len(list)-1].ID).encode())
	}
	out := make([]notificationJSONBody, len(list))
	for i, n := range list {
		out[i] = notificationJSON(root, n)
	}
	writeV2JSON(w, http.StatusOK, map[string]any{"notifications": out, "links": links})
	return nil
}

func withQuery(base, query string) string {
	if query == "" {
		return base
	}
	return base + "?" + query
}

// listV2Notifications runs the list query: the caller's service and key type, the filters,
// newest first, one page. older_than compares (created_at, id), so notifications created in
// the same microsecond are neither skipped nor repeated across pages.
func (s *Service) listV2Notifications(ctx context.Context, caller apiauth.Identity, q orderedQuery) ([]Notification, error) {
	where := []string{"service_id = ?", "key_type = ?"}
	args := []any{caller.ServiceID, string(caller.KeyType)}
	if types := q.values["template_type"]; len(types) > 0 {
		where = append(where, "notification_type IN ("+placeholders(len(types))+")")
		for _, t := range types {
			args = append(args, t)
		}
	}
	if statuses := substituteStatuses(q.values["status"]); len(statuses) > 0 {
		where = append(where, "status IN ("+placeholders(len(statuses))+")")
		for _, st := range statuses {
			args = append(args, st)
		}
	}
	if ref := q.values["reference"]; len(ref) > 0 {
		where = append(where, "client_reference = ?")
		args = append(args, ref[0])
	}
	if len(q.values["include_jobs"]) == 0 {
		where = append(where, "job_id IS NULL")
	}
	if older := q.values["older_than"]; len(older) > 0 {
		var at time.Time
		err := s.db.QueryRow(ctx, `SELECT created_at FROM notify_notifications WHERE id = ? AND service_id = ?`,
			older[0], caller.ServiceID).Scan(&at)
		if db.IsNoRows(err) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list notifications: %w", err)
		}
		where = append(where, "(created_at < ? OR (created_at = ? AND id < ?))")
		args = append(args, at, at, older[0])
	}
	rows, err := s.db.Query(ctx, `SELECT `+v2NotificationColumns+` FROM notify_notifications WHERE `+
		strings.Join(where, " AND ")+fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT %d`, apiPageSize), args...)
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		n, err := scanV2Notification(rows)
		if err != nil {
			return nil, fmt.Errorf("list notifications: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// substituteStatuses expands the filter's names into stored statuses; a filter covering every
// status filters nothing.
func substituteStatuses(requested []string) []string {
	set := map[string]bool{}
	for _, st := range requested {
		switch st {
		case "failed":
			for _, f := range failedStatuses {
				set[f] = true
			}
		case "accepted":
			set[StatusCreated], set[StatusSending] = true, true
		case "received":
			set[StatusDelivered] = true
		default:
			set[st] = true
		}
	}
	all := true
	for _, st := range listStatuses[:len(listStatuses)-2] { // the stored statuses, without accepted and received
		if !set[st] {
			all = false
			break
		}
	}
	if all {
		return nil
	}
	out := make([]string, 0, len(set))
	for st := range set {
		out = append(out, st)
	}
	slices.Sort(out)
	return out
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
