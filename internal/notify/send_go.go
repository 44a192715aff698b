package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/commons-gov/commons/internal/apiauth"
)

// The Go API other platforms send through (Booking's reminders, Pay's receipts): the same
// checks as POST /v2/notifications, made as the service's own live sender, so a trial service
// still only reaches its team and the daily limits still count. There is no per-minute rate
// limit: that limit belongs to API keys.

// SendOption adjusts a send made through the Go API.
type SendOption func(*sendRequest)

// WithReference sets the client reference a team can search by.
func WithReference(ref string) SendOption {
	return func(r *sendRequest) { r.Reference = &ref }
}

// WithReplyTo picks one of the service's email reply-to addresses by id.
func WithReplyTo(replyToID string) SendOption {
	return func(r *sendRequest) { r.ReplyToID = replyToID }
}

// WithSMSSender picks one of the service's text message senders by id.
func WithSMSSender(senderID string) SendOption {
	return func(r *sendRequest) { r.SMSSenderID = senderID }
}

// WithScheduledFor sends the message at t rather than now (up to 7 days ahead).
func WithScheduledFor(t time.Time) SendOption {
	return func(r *sendRequest) { t := t.UTC(); r.ScheduledFor = &t }
}

// WithUnsubscribeURL sets the one-click unsubscribe URL of an email.
func WithUnsubscribeURL(u string) SendOption {
	return func(r *sendRequest) { r.UnsubscribeURL = u }
}

// WithCreatedBy names the person on whose behalf the message is sent, shown as
// created_by_name.
func WithCreatedBy(name string) SendOption {
	return func(r *sendRequest) { r.CreatedByName = name }
}

// SendError is a send refused by Notify's rules, with GOV.UK Notify's error type (such as
// BadRequestError or ValidationError), the HTTP status the API would answer and its message.
type SendError struct {
	Status  int
	Type    string
	Message string
}

func (e *SendError) Error() string { return "notify: " + e.Message }

// SendEmail sends an email from one of the service's templates.
func (s *Service) SendEmail(ctx context.Context, serviceID, templateID, to string, personalisation map[string]any, opts ...SendOption) (Notification, error) {
	return s.sendFromGo(ctx, serviceID, sendRequest{Channel: Email, TemplateID: templateID, To: to,
		Personalisation: personalisation}, opts)
}

// SendSMS sends a text message from one of the service's templates.
func (s *Service) SendSMS(ctx context.Context, serviceID, templateID, to string, personalisation map[string]any, opts ...SendOption) (Notification, error) {
	return s.sendFromGo(ctx, serviceID, sendRequest{Channel: SMS, TemplateID: templateID, To: to,
		Personalisation: personalisation}, opts)
}

func (s *Service) sendFromGo(ctx context.Context, serviceID string, req sendRequest, opts []SendOption) (Notification, error) {
	for _, o := range opts {
		o(&req)
	}
	if req.Personalisation == nil {
		req.Personalisation = map[string]any{}
	}
	if err := s.checkGoRequest(req); err != nil {
		return Notification{}, err
	}
	svc, err := s.serviceFor(ctx, serviceID)
	if err != nil {
		return Notification{}, err
	}
	if svc.Archived {
		return Notification{}, &SendError{Status: 403, Type: errTypeAuth, Message: "Invalid token: service is archived"}
	}
	st, err := s.Settings(ctx, serviceID)
	if err != nil {
		return Notification{}, err
	}
	caller := apiauth.Identity{ServiceID: serviceID, ServiceLive: svc.Live, KeyType: apiauth.Live}
	if err := s.checkDailyLimit(ctx, caller, st, string(req.Channel)); err != nil {
		return Notification{}, asSendError(err)
	}
	res, err := s.send(ctx, sendContext{caller: caller, service: svc, settings: st}, req)
	if err != nil {
		return Notification{}, asSendError(err)
	}
	return res.Notification, nil
}

// checkGoRequest applies the request schema's rules to a Go call, so both doors refuse alike.
func (s *Service) checkGoRequest(req sendRequest) error {
	doc := map[string]any{"template_id": req.TemplateID, "personalisation": req.Personalisation}
	schema := postEmailSchema
	if req.Channel == SMS {
		schema, doc["phone_number"] = postSMSSchema, req.To
	} else {
		doc["email_address"] = req.To
	}
	if req.Reference != nil {
		doc["reference"] = *req.Reference
	}
	if req.UnsubscribeURL != "" {
		doc["one_click_unsubscribe_url"] = req.UnsubscribeURL
	}
	for k, v := range map[string]string{"email_reply_to_id": req.ReplyToID, "sms_sender_id": req.SMSSenderID} {
		if v != "" {
			doc[k] = v
		}
	}
	if req.Channel == SMS {
		delete(doc, "email_reply_to_id")
		delete(doc, "one_click_unsubscribe_url")
	} else {
		delete(doc, "sms_sender_id")
	}
	var msgs []string
	if req.ScheduledFor != nil {
		if m := checkScheduledFor(req.ScheduledFor.Format(time.RFC3339Nano), s.now(), scheduleWindow); m != "" {
			msgs = append(msgs, "scheduled_for "+m)
		}
	}
	msgs = append(schema.validate(doc, schemaContext{now: s.now()}), msgs...)
	if len(msgs) > 0 {
		return &SendError{Status: 400, Type: errTypeValidation, Message: strings.Join(msgs, "; ")}
	}
	return nil
}

// asSendError turns a refusal into a SendError; faults (the database) pass through.
func asSendError(err error) error {
	var v *v2Error
	if errors.As(err, &v) && len(v.Items) > 0 {
		msgs := make([]string, len(v.Items))
		for i, it := range v.Items {
			msgs[i] = it.Message
		}
		return &SendError{Status: v.Status, Type: v.Items[0].Error, Message: strings.Join(msgs, "; ")}
	}
	if err != nil {
		return fmt.Errorf("notify: send: %w", err)
	}
	return nil
}
