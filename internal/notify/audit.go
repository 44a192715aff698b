package notify

import (
	"context"
	"net/url"
	"reflect"
	"strings"
	"unicode"

	"github.com/commons-gov/commons/internal/console"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/web"
)

// Changes a team makes to how it sends (templates, senders, callbacks, the guest list,
// settings, bulk sends, cancellations) go in the platform's audit log, in the transaction of
// the change, beside the tenancy changes the log already holds.

// Notify's audit actions. They start "notify." so that the console can offer all of them, or
// one kind, as a filter.
const (
	auditTemplateCreated       = "notify.template.created"
	auditTemplateUpdated       = "notify.template.updated"
	auditTemplateArchived      = "notify.template.archived"
	auditCallbackSaved         = "notify.callback.saved"
	auditCallbackRemoved       = "notify.callback.removed"
	auditGuestListChanged      = "notify.guest_list.changed"
	auditSettingsChanged       = "notify.settings.changed"
	auditBulkUploaded          = "notify.bulk_send.uploaded"
	auditBulkStarted           = "notify.bulk_send.started"
	auditBulkCancelled         = "notify.bulk_send.cancelled"
	auditNotificationCancelled = "notify.notification.cancelled"
)

// senderAudit names the audit actions of one kind of sender ("notify.reply_to.added").
func senderAudit(k senderKind, verb string) string {
	return "notify." + senderTargets[k.table] + "." + verb
}

// senderTargets is the audit log's target type for each kind of sender, by table.
var senderTargets = map[string]string{
	replyToKind.table:       "reply_to",
	smsSenderKind.table:     "sms_sender",
	letterContactKind.table: "letter_contact",
}

// audit records a change in the platform's audit log inside tx, the change's own
// transaction, so that either both are committed or neither is. The actor is the one the
// console or the management API put in ctx. A change made through the Go API with no actor
// in ctx was not made by a team member or key, so it is recorded as Commons' own.
func (s *Service) audit(ctx context.Context, tx *db.Tx, serviceID, action, targetType, targetID string, details map[string]any) error {
	if s.cfg.Platform == nil {
		return nil // assembled without tenancy (some unit tests): there is no log to write to
	}
	actor, ok := platform.ActorFrom(ctx)
	if !ok {
		actor = platform.SystemActor
	}
	return s.cfg.Platform.Record(ctx, tx, actor, platform.AuditEntry{ServiceID: serviceID, Action: action,
		TargetType: targetType, TargetID: targetID, Details: details})
}

// templateDetails names a template in the audit log, and says which version a change made.
func templateDetails(t Template) map[string]any {
	return map[string]any{"name": t.Name, "type": string(t.Type), "version": t.Version}
}

// senderDetails names a sender in the audit log by its value; a letter contact block, which
// runs to several lines, by its first line, with the whole block beside it.
func senderDetails(k senderKind, x Sender) map[string]any {
	d := map[string]any{"name": x.Value, "is_default": x.IsDefault}
	switch k.table {
	case letterContactKind.table:
		d["name"], d["contact_block"] = firstLine(x.Value), x.Value
	case smsSenderKind.table:
		if x.Inbound {
			d["inbound"] = true
		}
	}
	return d
}

// bulkDetails names a bulk send in the audit log by its file.
func bulkDetails(j BulkJob) map[string]any {
	return map[string]any{"name": j.FileName, "template_id": j.TemplateID, "rows": j.Rows}
}

// auditURL is a callback URL as the audit log keeps it: without a query string, fragment or
// user information, which some teams use to carry credentials and which the log, being
// append-only, could never forget.
func auditURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}

// firstLine is the first line of a letter contact block, which names it in the audit log.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(line)
}

// settingsChanges lists the settings that differ between two versions, keyed by their names
// in snake_case, with each one's old and new values. Every field of Settings is compared, so
// a setting added later is audited without being listed here.
func settingsChanges(before, after Settings) map[string]any {
	changes := map[string]any{}
	b, a := reflect.ValueOf(before), reflect.ValueOf(after)
	for i := range b.NumField() {
		f := b.Type().Field(i)
		if !f.IsExported() || f.Name == "ServiceID" {
			continue
		}
		if !reflect.DeepEqual(b.Field(i).Interface(), a.Field(i).Interface()) {
			changes[snakeCase(f.Name)] = map[string]any{"from": b.Field(i).Interface(), "to": a.Field(i).Interface()}
		}
	}
	return changes
}

// snakeCase turns a Go field name into the house JSON style: "InternationalSMSDailyLimit"
// becomes "international_sms_daily_limit".
func snakeCase(name string) string {
	r := []rune(name)
	var b strings.Builder
	for i, c := range r {
		if unicode.IsUpper(c) && i > 0 &&
			(unicode.IsLower(r[i-1]) || i+1 < len(r) && unicode.IsLower(r[i+1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// AuditActions are Notify's actions for the console's audit log page: a filter for each kind
// of change, and what each action means in words.
func AuditActions() console.AuditActions {
	return console.AuditActions{
		Filters: []web.Option{
			{Value: "notify.", Label: "Notify: everything"},
			{Value: "notify.template.", Label: "Notify: templates"},
			{Value: "notify.reply_to.", Label: "Notify: reply-to addresses"},
			{Value: "notify.sms_sender.", Label: "Notify: text message senders"},
			{Value: "notify.letter_contact.", Label: "Notify: letter contact blocks"},
			{Value: "notify.callback.", Label: "Notify: callbacks"},
			{Value: "notify.guest_list.", Label: "Notify: guest list"},
			{Value: "notify.settings.", Label: "Notify: settings"},
			{Value: "notify.bulk_send.", Label: "Notify: bulk sends"},
			{Value: "notify.notification.", Label: "Notify: cancelled notifications"},
		},
		Words: map[string]string{
			auditTemplateCreated:            "Created a template",
			auditTemplateUpdated:            "Edited a template",
			auditTemplateArchived:           "Archived a template",
			"notify.reply_to.added":         "Added a reply-to email address",
			"notify.reply_to.removed":       "Removed a reply-to email address",
			"notify.sms_sender.added":       "Added a text message sender",
			"notify.sms_sender.removed":     "Removed a text message sender",
			"notify.letter_contact.added":   "Added a letter contact block",
			"notify.letter_contact.removed": "Removed a letter contact block",
			auditCallbackSaved:              "Set up a callback",
			auditCallbackRemoved:            "Removed a callback",
			auditGuestListChanged:           "Changed the guest list",
			auditSettingsChanged:            "Changed Notify settings",
			auditBulkUploaded:               "Uploaded a file to send",
			auditBulkStarted:                "Started a bulk send",
			auditBulkCancelled:              "Cancelled a bulk send",
			auditNotificationCancelled:      "Cancelled a scheduled notification",
		},
	}
}
