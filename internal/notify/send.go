package notify

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/notify/content"
	"github.com/commons-gov/commons/internal/platform"
)

// Sending one email, text message or templated letter: the checks GOV.UK Notify makes, in its
// order (notify.md §3.4), then one transaction that stores the notification, its first status,
// its delivery job and the day's count. The /v2 API and the Go API (SendEmail, SendSMS) share
// this path, so a message refused on one is refused on the other with the same words.

// sendRequest is a validated request to send from a template.
type sendRequest struct {
	Channel         Channel
	TemplateID      string
	To              string // email address or phone number as given; empty for letters
	Personalisation map[string]any
	Reference       *string // the client's reference, nil when not given
	ReplyToID       string  // email_reply_to_id
	SMSSenderID     string  // sms_sender_id
	UnsubscribeURL  string  // one_click_unsubscribe_url
	SanitiseFor     []string
	ScheduledFor    *time.Time
	CreatedByName   string
}

// sanitisedValue is one entry of the email response's sanitised_content.
type sanitisedValue struct {
	Unsanitised any `json:"unsanitised"`
	Sanitised   any `json:"sanitised"`
}

// sendResult is what a send produced, for the response.
type sendResult struct {
	Notification Notification
	FromEmail    string
	Sanitised    map[string]sanitisedValue
	Simulated    bool
}

// sendContext is what the checks need to know about the sender, gathered once.
type sendContext struct {
	caller   apiauth.Identity
	service  platform.Service
	settings Settings
}

// send runs the checks after schema validation and stores the notification.
func (s *Service) send(ctx context.Context, sc sendContext, req sendRequest) (sendResult, error) {
	if err := checkChannelPermission(sc.service, req.Channel); err != nil {
		return sendResult{}, err
	}
	res := sendResult{}
	personalisation := req.Personalisation
	if req.Channel == Email {
		personalisation, res.Sanitised = sanitiseFor(req.Personalisation, req.SanitiseFor)
	}
	t, err := s.templateForSend(ctx, sc.caller.ServiceID, req.TemplateID, req.Channel)
	if err != nil {
		return sendResult{}, err
	}
	var contactBlock string
	if req.Channel == Letter {
		if contactBlock, err = s.letterContactBlock(ctx, sc.caller.ServiceID, t.LetterContactID); err != nil {
			return sendResult{}, err
		}
	}
	smsPrefix := ""
	if req.Channel == SMS && sc.settings.PrefixSMS {
		smsPrefix = sc.service.Name
	}
	msg, err := renderForSend(t, personalisation, contactBlock, smsPrefix)
	if err != nil {
		return sendResult{}, err
	}
	if req.Channel != Email && hasFileUpload(personalisation) {
		return sendResult{}, badRequest("Can only send a file by email")
	}

	n := Notification{
		ID: newNotificationID(), ServiceID: sc.caller.ServiceID, TemplateID: t.ID, TemplateVersion: t.Version,
		Type: req.Channel, APIKeyID: sc.caller.KeyID, KeyType: sc.caller.KeyType, Personalisation: personalisation,
		Status: StatusCreated, Subject: msg.Subject, Body: msg.Body, CreatedByName: req.CreatedByName,
		ScheduledFor: req.ScheduledFor, CreatedAt: s.now(), RateMultiplier: 1, ReplyTo: contactBlock,
	}
	if req.Reference != nil {
		n.ClientReference = *req.Reference
	}
	if err := s.chooseSender(ctx, sc, req, &n); err != nil {
		return sendResult{}, err
	}
	limits := []string{string(req.Channel)}
	var docs []pendingDocument
	if req.Channel == Letter {
		if err := addressLetter(sc, &n, t); err != nil {
			return sendResult{}, err
		}
	} else {
		if res.Simulated, limits, err = s.addressMessage(ctx, sc, req, &n); err != nil {
			return sendResult{}, err
		}
		if hasFileUpload(personalisation) {
			// Sending a file needs the service's contact link: read the settings afresh, so
			// that a link set a moment ago on any node counts.
			if sc.settings, err = s.Settings(ctx, sc.caller.ServiceID); err != nil {
				return sendResult{}, err
			}
			if n.Personalisation, docs, err = s.attachFiles(sc, personalisation, n.NormalisedTo, res.Simulated); err != nil {
				return sendResult{}, err
			}
			if msg, err = renderForSend(t, n.Personalisation, contactBlock, smsPrefix); err != nil {
				return sendResult{}, err
			}
			n.Subject, n.Body = msg.Subject, msg.Body
		}
		if msg.tooLong != nil {
			return sendResult{}, msg.tooLong
		}
	}
	res.FromEmail = s.fromEmail(sc)
	res.Notification = n
	if res.Simulated {
		return res, nil
	}
	var storeFiles func(tx *db.Tx) error
	if len(docs) > 0 {
		storeFiles = func(tx *db.Tx) error {
			return storeDocuments(ctx, tx, &res.Notification, docs, res.Notification.CreatedAt)
		}
	}
	if err := s.persist(ctx, &res.Notification, sc, limits, storeFiles); err != nil {
		return sendResult{}, err
	}
	return res, nil
}

// chooseSender sets an email's reply-to address or a text message's sender, refusing an id
// that is not one of the service's.
func (s *Service) chooseSender(ctx context.Context, sc sendContext, req sendRequest, n *Notification) error {
	var err error
	switch req.Channel {
	case Email:
		n.ReplyTo, err = s.emailReplyTo(ctx, sc.caller.ServiceID, req.ReplyToID)
		n.UnsubscribeURL = req.UnsubscribeURL
	case SMS:
		var sender string
		sender, err = s.smsSender(ctx, sc.caller.ServiceID, req.SMSSenderID)
		n.Sender = formatSMSSender(sender)
	}
	return err
}

// addressLetter applies the letter rules: the key, then the address, which also decides
// international postage.
func addressLetter(sc sendContext, n *Notification, t Template) error {
	if err := checkLetterKey(sc); err != nil {
		return err
	}
	addr, err := validateLetterAddress(n.Personalisation, sc.service.Can(platform.ServiceInternationalLetters))
	if err != nil {
		return err
	}
	n.Recipient = strings.Join(addr.Lines, "\n")
	n.NormalisedTo = strings.ToLower(strings.Join(strings.Fields(n.Recipient), ""))
	n.Postage = t.Postage
	if addr.International {
		n.Postage, n.International = addr.Postage, true
	}
	return nil
}

// addressMessage checks an email's or text message's recipient: trial mode and team keys,
// then the address itself and, for phone numbers, the service's permissions and the
// international daily limit. It reports whether the recipient is a simulated one and which
// daily limits the send counts towards.
func (s *Service) addressMessage(ctx context.Context, sc sendContext, req sendRequest, n *Notification) (simulated bool, limits []string, err error) {
	limits = []string{string(req.Channel)}
	if err := s.checkRecipientAllowed(ctx, sc, req.Channel, req.To); err != nil {
		return false, nil, err
	}
	n.Recipient = stripRecipient(req.To)
	if req.Channel == Email {
		addr, err := checkEmailAddress(req.To)
		if err != nil {
			return false, nil, newV2Error(http.StatusBadRequest, errTypeInvalidEmail, err.Error())
		}
		n.NormalisedTo = addr
		return content.IsSimulatedEmail(addr), limits, nil
	}
	phone, err := validatePhoneForService(req.To, sc.service, sc.settings)
	if err != nil {
		return false, nil, err
	}
	n.NormalisedTo = phone.Normalised
	n.International, n.RateMultiplier = phone.International, float64(phone.RateMultiplier)
	if phone.CountryPrefix != "44" {
		if err := s.checkDailyLimit(ctx, sc.caller, sc.settings, internationalSMSLimit); err != nil {
			return false, nil, err
		}
		limits = append(limits, internationalSMSLimit)
	}
	return content.IsSimulatedPhone(phone.Normalised), limits, nil
}

// checkChannelPermission refuses a channel the service may not use.
func checkChannelPermission(svc platform.Service, ch Channel) error {
	if svc.Can(string(ch)) {
		return nil
	}
	return badRequest("Service is not allowed to send %s", channelPlural(ch))
}

// channelPlural is how GOV.UK Notify names a channel in its messages.
func channelPlural(ch Channel) string {
	switch ch {
	case SMS:
		return "text messages"
	case Letter:
		return "letters"
	}
	return "emails"
}

// templateForSend finds the template to send and checks it suits the channel and is not
// archived. A template of another service, or a hidden one, is "not found".
func (s *Service) templateForSend(ctx context.Context, serviceID, templateID string, ch Channel) (Template, error) {
	t, err := s.cachedTemplate(ctx, serviceID, canonicalUUID(templateID))
	if failure.Is(err, failure.NotFound) || (err == nil && t.Hidden) {
		return Template{}, badRequest("Template not found")
	}
	if err != nil {
		return Template{}, err
	}
	if t.Type != ch {
		return Template{}, badRequest("%s template is not suitable for %s notification", t.Type, ch)
	}
	if t.Archived {
		return Template{}, badRequest("Template has been deleted")
	}
	return t, nil
}

// checkLetterKey applies the letter rules about keys: never with a team key, and only with a
// test key while the service is in trial mode.
func checkLetterKey(sc sendContext) error {
	if sc.caller.KeyType == apiauth.Team {
		return newV2Error(http.StatusForbidden, errTypeBadRequest, "Cannot send letters with a team api key")
	}
	if !sc.service.Live && sc.caller.KeyType != apiauth.Test {
		return newV2Error(http.StatusForbidden, errTypeBadRequest, "Cannot send letters when service is in trial mode")
	}
	return nil
}

// checkRecipientAllowed applies trial mode and team keys: only team members and the guest
// list may receive. Test keys, and live keys of live services, may send to anyone.
func (s *Service) checkRecipientAllowed(ctx context.Context, sc sendContext, ch Channel, to string) error {
	switch {
	case sc.caller.KeyType == apiauth.Test:
		return nil
	case sc.caller.KeyType == apiauth.Live && sc.service.Live:
		return nil
	}
	teamKey := sc.caller.KeyType == apiauth.Team
	if ch == Email {
		addr, err := checkEmailAddress(to)
		if err != nil {
			return errRecipientNotAllowed(teamKey)
		}
		if s.cfg.Platform != nil {
			members, err := s.cfg.Platform.Members(ctx, sc.caller.ServiceID)
			if err != nil {
				return err
			}
			for _, m := range members {
				if strings.EqualFold(m.Email, addr) {
					return nil
				}
			}
		}
		ok, err := s.guestListed(ctx, sc.caller.ServiceID, "email", addr)
		if err != nil || ok {
			return err
		}
		return errRecipientNotAllowed(teamKey)
	}
	phone, ok := normalisePhoneForMatch(to)
	if !ok {
		return errRecipientNotAllowed(teamKey)
	}
	member, err := s.teamMobile(ctx, sc.caller.ServiceID, phone)
	if err != nil || member {
		return err
	}
	listed, err := s.guestListed(ctx, sc.caller.ServiceID, "mobile", phone)
	if err != nil || listed {
		return err
	}
	return errRecipientNotAllowed(teamKey)
}

// fromEmail is the sending address shown in the email response: the service's local part at
// the email domain, as delivery puts it in the From header.
func (s *Service) fromEmail(sc sendContext) string {
	local := sc.settings.EmailSenderLocalPart
	if local == "" {
		name := sc.settings.EmailSenderName
		if name == "" {
			name = sc.service.Name
		}
		local = s.emailLocalPart(name)
	}
	return local + "@" + s.emailDomain()
}

// emailLocalPart is EmailLocalPart, remembered per name: every email sent shows its
// service's From address, and normalising the name each time cost a send a microsecond.
func (s *Service) emailLocalPart(name string) string {
	st := &s.sending
	if v, ok := st.localParts.Load(name); ok {
		return v.(string)
	}
	local := EmailLocalPart(name)
	if st.localPartCount.Add(1) > maxCachedServices {
		st.localParts.Clear()
		st.localPartCount.Store(0)
	}
	st.localParts.Store(name, local)
	return local
}

// DefaultEmailDomain is the domain of From addresses when none is configured.
const DefaultEmailDomain = "notifications.service.localhost"

// emailDomain is the domain of From addresses. The configuration does not change while the
// node runs, so the base URL is parsed once rather than for every email sent.
func (s *Service) emailDomain() string {
	st := &s.sending
	st.domainOnce.Do(func() {
		st.domain = DefaultEmailDomain
		if s.cfg.EmailDomain != "" {
			st.domain = s.cfg.EmailDomain
		} else if u, err := url.Parse(s.cfg.BaseURL); err == nil && u.Hostname() != "" {
			st.domain = u.Hostname()
		}
	})
	return st.domain
}

// stripRecipient removes surrounding and invisible whitespace from a recipient as given.
func stripRecipient(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		switch r {
		case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u180e':
			return -1
		}
		return r
	}, s))
}

// serviceFor reads the sending service's record from the platform.
func (s *Service) serviceFor(ctx context.Context, serviceID string) (platform.Service, error) {
	svc, err := s.cachedService(ctx, serviceID)
	if err != nil {
		return platform.Service{}, fmt.Errorf("sending service: %w", err)
	}
	return svc, nil
}

// newNotificationID returns a version 7 UUID: random, but ordered by the time it was made.
// Each notification adds a row to the notifications' primary key index and to the status
// events' index on notification_id; random ids put every row on a different page of those
// indexes, so that a batch of sends dirtied (and wrote to the log) a page per send in each,
// where time-ordered ids append to the same few pages. Clients see a UUID as before.
func newNotificationID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}
