package notify

import (
	"context"
	"fmt"
	"net/http"
)

// Who a message appears to come from, or where replies go (notify.md §2.13): an email
// reply-to address, a text message sender, a letter contact block. A request may name one of
// the service's own by id; otherwise the service's default applies.

// defaultSMSSender is the sender of a service that has configured none, as GOV.UK Notify's
// services start with "GOVUK".
const defaultSMSSender = "GOVUK"

// emailReplyTo returns the reply-to address for an email: the one named by id, which must be
// one of the service's, or else the service's default, which may be none.
func (s *Service) emailReplyTo(ctx context.Context, serviceID, id string) (string, error) {
	if id != "" {
		id = canonicalUUID(id)
	}
	r, ok, err := s.cachedSender(ctx, "reply_to", serviceID, id, s.ReplyTo)
	switch {
	case err != nil:
		return "", err
	case !ok && id != "":
		return "", badRequest("email_reply_to_id %s does not exist in database for service id %s", id, serviceID)
	}
	return r.Value, nil
}

// smsSender returns the sender for a text message: the one named by id, which must be one of
// the service's, or else the service's default, or GOVUK when it has none.
func (s *Service) smsSender(ctx context.Context, serviceID, id string) (string, error) {
	if id != "" {
		id = canonicalUUID(id)
	}
	sender, ok, err := s.cachedSender(ctx, "sms_sender", serviceID, id, s.SMSSender)
	switch {
	case err != nil:
		return "", err
	case !ok && id != "":
		return "", badRequest("sms_sender_id %s does not exist in database for service id %s", id, serviceID)
	case !ok:
		return defaultSMSSender, nil
	}
	return sender.Value, nil
}

// letterContactBlock returns the contact block printed on a letter: the template's own, or
// the service's default, or none.
func (s *Service) letterContactBlock(ctx context.Context, serviceID, id string) (string, error) {
	c, _, err := s.cachedSender(ctx, "letter_contact", serviceID, id, s.LetterContact)
	return c.Value, err
}

// guestListed reports whether a normalised recipient is on the service's guest list.
func (s *Service) guestListed(ctx context.Context, serviceID, kind, recipient string) (bool, error) {
	var n int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM notify_guest_list WHERE service_id = ? AND recipient_type = ? AND recipient = ?`,
		serviceID, kind, recipient).Scan(&n); err != nil {
		return false, fmt.Errorf("guest list: %w", err)
	}
	return n > 0, nil
}

// Refusals of recipients outside the team (notify.md §3.2), with GOV.UK Notify's curly
// apostrophe and en dash.
const (
	msgTeamKeyRecipient = "Can’t send to this recipient using a team-only API key"
	msgTrialRecipient   = "Can’t send to this recipient when service is in trial mode – see https://www.notifications.service.gov.uk/trial-mode"
)

// errRecipientNotAllowed is the 400 for a recipient a team key or a trial service may not
// send to.
func errRecipientNotAllowed(teamKey bool) *v2Error {
	if teamKey {
		return newV2Error(http.StatusBadRequest, errTypeBadRequest, msgTeamKeyRecipient)
	}
	return newV2Error(http.StatusBadRequest, errTypeBadRequest, msgTrialRecipient)
}
