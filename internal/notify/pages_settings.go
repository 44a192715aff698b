package notify

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/commons-gov/commons/internal/console"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/web"
)

// The settings pages: the email sender name and text message prefix, data retention, reply-to
// addresses, text message senders, letter contact blocks, the guest list and callbacks (their
// pages are in pages_callbacks.go).

type settingsPage struct {
	notifyPage
	Settings       Settings
	Senders        []senderSettingGroup
	Callbacks      []callbackSettingRow
	GuestEmails    []string
	GuestPhones    []string
	MaxGuestList   int
	RetentionRows  []web.SummaryRow
	SendingRows    []web.SummaryRow
	CallbackTypes  []string
	HasAnyCallback bool
}

// senderSettingGroup is one kind of sender with the service's ones.
type senderSettingGroup struct {
	Kind    senderPageKind
	Senders []Sender
}

func (p *consolePages) settingsPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	ctx := r.Context()
	id := pc.Service.ID
	st, err := p.s.Settings(ctx, id)
	if err != nil {
		return err
	}
	data := settingsPage{notifyPage: newNotifyPage(pc, "settings"), Settings: st, MaxGuestList: MaxGuestList, CallbackTypes: CallbackTypes}
	base := data.Base() + "/settings"
	change := func(row web.SummaryRow, href, what string) web.SummaryRow {
		if !pc.Service.Archived {
			row.Href, row.Action, row.ActionFor = href, "Change", what
		}
		return row
	}
	senderName := st.EmailSenderName
	if senderName == "" {
		senderName = pc.Service.Name + " (the service’s name)"
	}
	prefix := "No"
	if st.PrefixSMS {
		prefix = "Yes"
	}
	landlines := "No"
	if st.SMSToUKLandlines {
		landlines = "Yes"
	}
	data.SendingRows = []web.SummaryRow{
		change(web.SummaryRow{Key: "Email sender name", Value: senderName}, base+"/sending", "email sender name"),
		change(web.SummaryRow{Key: "Start text messages with the service name", Value: prefix}, base+"/sending", "text message prefix"),
		change(web.SummaryRow{Key: "Send text messages to UK landlines", Value: landlines}, base+"/sending", "text messages to UK landlines"),
	}
	for _, c := range consoleChannelOrder {
		data.RetentionRows = append(data.RetentionRows, change(web.SummaryRow{
			Key: shownChannelPlural(c), Value: dayCountText(st.RetentionDays(c)),
		}, base+"/retention", "how long "+strings.ToLower(shownChannelPlural(c))+" are kept"))
	}
	for _, k := range senderPageKinds {
		list, err := k.list(p.s, ctx, id)
		if err != nil {
			return err
		}
		data.Senders = append(data.Senders, senderSettingGroup{Kind: k, Senders: list})
	}
	if data.Callbacks, err = p.callbackRows(ctx, id); err != nil {
		return err
	}
	for _, c := range data.Callbacks {
		data.HasAnyCallback = data.HasAnyCallback || c.URL != ""
	}
	guests, err := p.s.GuestList(ctx, id)
	if err != nil {
		return err
	}
	for _, g := range guests {
		if g.Type == "email" {
			data.GuestEmails = append(data.GuestEmails, g.Recipient)
		} else {
			data.GuestPhones = append(data.GuestPhones, g.Recipient)
		}
	}
	return p.render(w, r, "settings", data)
}

func dayCountText(n int) string {
	if n == 1 {
		return "1 day"
	}
	return strconv.Itoa(n) + " days"
}

// maxSenderName bounds the email sender name, which goes in every email's From header.
const maxSenderName = 255

func (p *consolePages) sendingPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseIfArchived(pc); err != nil {
		return err
	}
	st, err := p.s.Settings(r.Context(), pc.Service.ID)
	if err != nil {
		return err
	}
	f := web.NewForm()
	f.Set("email_sender_name", st.EmailSenderName)
	f.Set("prefix_sms", yesNoValue(st.PrefixSMS))
	f.Set("sms_to_uk_landlines", yesNoValue(st.SMSToUKLandlines))
	return p.render(w, r, "settings-sending", notifyFormPage{notifyPage: newNotifyPage(pc, "settings"), Form: f})
}

func yesNoValue(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (p *consolePages) saveSending(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseIfArchived(pc); err != nil {
		return err
	}
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	st, err := p.s.Settings(r.Context(), pc.Service.ID)
	if err != nil {
		return err
	}
	name := f.Get("email_sender_name")
	if utf8.RuneCountInString(name) > maxSenderName || strings.ContainsAny(name, "\r\n") {
		f.AddError("email_sender_name", "Email sender name must be "+strconv.Itoa(maxSenderName)+" characters or fewer, on one line")
	}
	prefix := f.Get("prefix_sms")
	if prefix != "yes" && prefix != "no" {
		f.AddError("prefix_sms", "Select yes if text messages should start with the service name")
	}
	// A form without the question (one posted before it was asked) leaves the setting as it is.
	landlines := f.Get("sms_to_uk_landlines")
	switch landlines {
	case "":
		landlines = yesNoValue(st.SMSToUKLandlines)
	case "yes", "no":
	default:
		f.AddError("sms_to_uk_landlines", "Select yes if the service may send text messages to UK landlines")
	}
	data := notifyFormPage{notifyPage: newNotifyPage(pc, "settings"), Form: f}
	if !f.Valid() {
		return p.renderInvalid(w, r, "settings-sending", data)
	}
	st.EmailSenderName, st.PrefixSMS, st.SMSToUKLandlines = name, prefix == "yes", landlines == "yes"
	if err := p.s.SaveSettings(r.Context(), st); err != nil {
		if !failInOrder(f, err, "email_sender_name", "email_sender_name", "prefix_sms") {
			return err
		}
		return p.renderInvalid(w, r, "settings-sending", data)
	}
	return redirectWithFlash(w, r, data.Base()+"/settings", "Sending settings saved")
}

// retentionFormFields are the retention form's fields, in page order.
var retentionFormFields = []struct {
	name    string
	channel Channel
}{{"email_retention_days", Email}, {"sms_retention_days", SMS}, {"letter_retention_days", Letter}}

func (p *consolePages) retentionPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseIfArchived(pc); err != nil {
		return err
	}
	st, err := p.s.Settings(r.Context(), pc.Service.ID)
	if err != nil {
		return err
	}
	f := web.NewForm()
	for _, rf := range retentionFormFields {
		f.Set(rf.name, strconv.Itoa(st.RetentionDays(rf.channel)))
	}
	return p.render(w, r, "settings-retention", notifyFormPage{notifyPage: newNotifyPage(pc, "settings"), Form: f})
}

func (p *consolePages) saveRetention(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseIfArchived(pc); err != nil {
		return err
	}
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	st, err := p.s.Settings(r.Context(), pc.Service.ID)
	if err != nil {
		return err
	}
	for _, rf := range retentionFormFields {
		n, err := strconv.Atoi(f.Get(rf.name))
		if err != nil {
			f.AddError(rf.name, "Enter how many days to keep "+strings.ToLower(shownChannelPlural(rf.channel))+" as a whole number, like 7")
			continue
		}
		switch rf.channel {
		case Email:
			st.EmailRetentionDays = n
		case SMS:
			st.SMSRetentionDays = n
		case Letter:
			st.LetterRetentionDays = n
		}
	}
	data := notifyFormPage{notifyPage: newNotifyPage(pc, "settings"), Form: f}
	order := []string{"email_retention_days", "sms_retention_days", "letter_retention_days"}
	if f.Valid() {
		err = p.s.SaveSettings(r.Context(), st)
		if err == nil {
			return redirectWithFlash(w, r, data.Base()+"/settings", "Data retention saved")
		}
		if !failInOrder(f, err, order[0], order...) {
			return err
		}
	}
	return p.renderInvalid(w, r, "settings-retention", data)
}

// senderPageKind is one of the three kinds of sender, as its pages present it.
type senderPageKind struct {
	Slug      string // in addresses: /settings/{slug}/new
	Field     string // the form field, as the store names it in its errors
	Heading   string // "Reply-to email addresses"
	Singular  string // "reply-to email address"
	Label     string // the field's label
	Hint      string
	Multiline bool
	// Empty says what the service has when it has none.
	Empty  string
	list   func(s *Service, ctx context.Context, serviceID string) ([]Sender, error)
	add    func(s *Service, ctx context.Context, serviceID, value string, isDefault bool) (Sender, error)
	remove func(s *Service, ctx context.Context, serviceID, id string) error
}

var senderPageKinds = []senderPageKind{
	{
		Slug: "reply-to", Field: "email_address", Heading: "Reply-to email addresses",
		Singular: "reply-to email address", Label: "Email address",
		Hint:  "Replies to your emails go here. Without one, people cannot reply.",
		Empty: "No reply-to email addresses: people cannot reply to your emails.",
		list:  (*Service).ReplyTos,
		add: func(s *Service, ctx context.Context, id, v string, d bool) (Sender, error) {
			return s.AddReplyTo(ctx, id, v, d)
		},
		remove: (*Service).RemoveReplyTo,
	},
	{
		Slug: "text-message-senders", Field: "sms_sender", Heading: "Text message senders",
		Singular: "text message sender", Label: "Text message sender",
		Hint:  "What people see as the sender: 3 to 11 letters and numbers, or a phone number.",
		Empty: "No text message senders: messages come from the provider’s default sender.",
		list:  (*Service).SMSSenders,
		add: func(s *Service, ctx context.Context, id, v string, d bool) (Sender, error) {
			return s.AddSMSSender(ctx, id, v, d, false)
		},
		remove: (*Service).RemoveSMSSender,
	},
	{
		Slug: "letter-contact-blocks", Field: "contact_block", Heading: "Letter contact blocks",
		Singular: "letter contact block", Label: "Contact block", Multiline: true,
		Hint:  "Printed at the top right of your letters: your address and how to contact you. 10 lines at most.",
		Empty: "No letter contact blocks: letters are printed without one.",
		list:  (*Service).LetterContacts,
		add: func(s *Service, ctx context.Context, id, v string, d bool) (Sender, error) {
			return s.AddLetterContact(ctx, id, v, d)
		},
		remove: (*Service).RemoveLetterContact,
	},
}

type senderFormPage struct {
	notifyFormPage
	Kind senderPageKind
}

type senderRemovePage struct {
	notifyPage
	Kind   senderPageKind
	Sender Sender
}

func (p *consolePages) newSenderPage(k senderPageKind) console.ServicePageFunc {
	return func(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
		if err := refuseIfArchived(pc); err != nil {
			return err
		}
		return p.render(w, r, "settings-sender", senderFormPage{notifyFormPage: notifyFormPage{notifyPage: newNotifyPage(pc, "settings"), Form: web.NewForm()}, Kind: k})
	}
}

func (p *consolePages) addSender(k senderPageKind) console.ServicePageFunc {
	return func(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
		if err := refuseIfArchived(pc); err != nil {
			return err
		}
		f, err := web.ParseForm(w, r)
		if err != nil {
			return err
		}
		data := senderFormPage{notifyFormPage: notifyFormPage{notifyPage: newNotifyPage(pc, "settings"), Form: f}, Kind: k}
		value := f.Get(k.Field)
		if k.Multiline {
			value = strings.ReplaceAll(f.Raw(k.Field), "\r\n", "\n")
		}
		added, err := k.add(p.s, r.Context(), pc.Service.ID, value, f.Get("default") == "yes")
		if err != nil {
			if !failInOrder(f, err, k.Field, k.Field) {
				return err
			}
			return p.renderInvalid(w, r, "settings-sender", data)
		}
		first, _, _ := strings.Cut(added.Value, "\n")
		return redirectWithFlash(w, r, data.Base()+"/settings", "Added "+k.Singular+": "+first)
	}
}

// findSender returns the service's sender named in the URL.
func (p *consolePages) findSender(r *http.Request, pc console.PageContext, k senderPageKind) (Sender, error) {
	list, err := k.list(p.s, r.Context(), pc.Service.ID)
	if err != nil {
		return Sender{}, err
	}
	for _, x := range list {
		if x.ID == r.PathValue("sender") {
			return x, nil
		}
	}
	return Sender{}, failure.New(failure.NotFound, "No such %s", k.Singular)
}

func (p *consolePages) removeSenderPage(k senderPageKind) console.ServicePageFunc {
	return func(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
		if err := refuseIfArchived(pc); err != nil {
			return err
		}
		x, err := p.findSender(r, pc, k)
		if err != nil {
			return err
		}
		return p.render(w, r, "settings-sender-remove", senderRemovePage{notifyPage: newNotifyPage(pc, "settings"), Kind: k, Sender: x})
	}
}

func (p *consolePages) removeSender(k senderPageKind) console.ServicePageFunc {
	return func(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
		if err := refuseIfArchived(pc); err != nil {
			return err
		}
		x, err := p.findSender(r, pc, k)
		if err != nil {
			return err
		}
		if err := k.remove(p.s, r.Context(), pc.Service.ID, x.ID); err != nil {
			return err
		}
		first, _, _ := strings.Cut(x.Value, "\n")
		return redirectWithFlash(w, r, notifyBase(pc)+"/settings", "Removed "+k.Singular+": "+first)
	}
}

type guestListPage struct {
	notifyFormPage
	Max int
}

func (p *consolePages) guestListPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseIfArchived(pc); err != nil {
		return err
	}
	guests, err := p.s.GuestList(r.Context(), pc.Service.ID)
	if err != nil {
		return err
	}
	var emails, phones []string
	for _, g := range guests {
		if g.Type == "email" {
			emails = append(emails, g.Recipient)
		} else {
			phones = append(phones, g.Recipient)
		}
	}
	f := web.NewForm()
	f.Set("email_addresses", strings.Join(emails, "\n"))
	f.Set("phone_numbers", strings.Join(phones, "\n"))
	return p.render(w, r, "settings-guest-list", guestListPage{notifyFormPage: notifyFormPage{notifyPage: newNotifyPage(pc, "settings"), Form: f}, Max: MaxGuestList})
}

// textareaLines splits a textarea into its non-blank lines, trimmed.
func textareaLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (p *consolePages) saveGuestList(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseIfArchived(pc); err != nil {
		return err
	}
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	data := guestListPage{notifyFormPage: notifyFormPage{notifyPage: newNotifyPage(pc, "settings"), Form: f}, Max: MaxGuestList}
	emails, phones := textareaLines(f.Raw("email_addresses")), textareaLines(f.Raw("phone_numbers"))
	if len(emails) > MaxGuestList {
		f.AddError("email_addresses", "Enter "+strconv.Itoa(MaxGuestList)+" email addresses or fewer")
	}
	if len(phones) > MaxGuestList {
		f.AddError("phone_numbers", "Enter "+strconv.Itoa(MaxGuestList)+" phone numbers or fewer")
	}
	if !f.Valid() {
		return p.renderInvalid(w, r, "settings-guest-list", data)
	}
	emails, phones, err = NormaliseGuestList(emails, phones)
	if err == nil {
		err = p.s.SetGuestList(r.Context(), pc.Service.ID, emails, phones)
	}
	if err != nil {
		if !failInOrder(f, err, "email_addresses", "email_addresses", "phone_numbers") {
			return err
		}
		return p.renderInvalid(w, r, "settings-guest-list", data)
	}
	return redirectWithFlash(w, r, data.Base()+"/settings", "Guest list saved")
}
