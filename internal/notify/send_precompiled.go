package notify

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/notify/letter"
)

// Precompiled letters (notify.md §2.5): the service sends a PDF it made itself. The PDF is
// kept with the notification. GOV.UK Notify answers 201 at once and checks the file later,
// moving the letter from pending-virus-check to created or validation-failed; Commons has no
// virus scanner to wait for, so it makes the same check (letter.CheckPrecompiled) while
// answering, and the letter starts in created or, when the PDF cannot be printed, in
// validation-failed, which GET /v2/notifications/{id} then reports. The answer is the same 201
// either way, as GOV.UK Notify's is.

// precompiledTemplateName names each service's hidden template that precompiled letters are
// recorded against, as GOV.UK Notify's does.
const precompiledTemplateName = "Pre-compiled PDF"

// precompiledRecipient stands in for the address until the PDF has been read.
const precompiledRecipient = "Provided as PDF"

// precompiledTemplateNamespace makes each service's precompiled template id a function of the
// service id, so that creating it on first use is idempotent across racing requests.
var precompiledTemplateNamespace = uuid.MustParse("0b5f3c1e-6f0e-4c55-9a51-1c1b6f0d2a77")

func precompiledTemplateID(serviceID string) string {
	return uuid.NewSHA1(precompiledTemplateNamespace, []byte(serviceID)).String()
}

func (s *Service) postPrecompiledLetter(w http.ResponseWriter, r *http.Request, caller apiauth.Identity, st Settings, body any) error {
	if msgs := postPrecompiledSchema.validate(body, schemaContext{now: s.now()}); len(msgs) > 0 {
		return validationError(msgs...)
	}
	obj := body.(map[string]any)
	ctx := r.Context()
	svc, err := s.serviceFor(ctx, caller.ServiceID)
	if err != nil {
		return err
	}
	sc := sendContext{caller: caller, service: svc, settings: st}
	if err := checkChannelPermission(svc, Letter); err != nil {
		return err
	}
	if err := checkLetterKey(sc); err != nil {
		return err
	}
	pdf, ok := decodeBase64Leniently(obj["content"].(string))
	if !ok {
		return badRequest("Cannot decode letter content (invalid base64 encoding)")
	}
	postage, _ := obj["postage"].(string)
	if postage == "" {
		postage = "second"
	}
	n := Notification{
		ID: uuid.NewString(), ServiceID: caller.ServiceID, TemplateID: precompiledTemplateID(caller.ServiceID),
		TemplateVersion: 1, Type: Letter, APIKeyID: caller.KeyID, KeyType: caller.KeyType,
		Recipient: precompiledRecipient, NormalisedTo: strings.ToLower(strings.Join(strings.Fields(precompiledRecipient), "")),
		Personalisation: map[string]any{"address_line_1": precompiledRecipient},
		ClientReference: obj["reference"].(string), Status: StatusPendingVirusCheck, Postage: postage,
		Body: "", Subject: precompiledTemplateName,
		CreatedAt: s.now(), RateMultiplier: 1,
	}
	if pages, err := letter.CheckPrecompiled(pdf); err != nil {
		var pe *letter.PrecompiledError
		if !errors.As(err, &pe) {
			return err
		}
		n.Status, n.Pages, n.UpdatedAt = StatusValidationFailed, pe.Pages, &n.CreatedAt
		s.logger().InfoContext(ctx, "precompiled letter refused", "notification_id", n.ID, "reason", pe.Reason())
	} else {
		n.Status, n.Pages, n.BillableUnits = StatusCreated, pages, (pages+1)/2
	}
	err = s.persist(ctx, &n, sc, []string{string(Letter)}, func(tx *db.Tx) error {
		if err := s.ensurePrecompiledTemplate(ctx, tx, caller.ServiceID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO notify_letter_pdfs (notification_id, service_id, pdf, precompiled, created_at)
			VALUES (?, ?, ?, ?, ?)`, n.ID, n.ServiceID, pdf, true, n.CreatedAt)
		if err != nil {
			return fmt.Errorf("store letter PDF: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeV2JSON(w, http.StatusCreated, map[string]any{"id": n.ID, "reference": n.ClientReference, "postage": n.Postage})
	return nil
}

// ensurePrecompiledTemplate creates the service's hidden precompiled template the first time
// it is needed.
func (s *Service) ensurePrecompiledTemplate(ctx context.Context, tx *db.Tx, serviceID string) error {
	id := precompiledTemplateID(serviceID)
	now := s.now()
	res, err := tx.Exec(ctx, `INSERT INTO notify_templates (id, service_id, name, template_type, subject, content,
		postage, version, archived, hidden, created_at, created_by)
		VALUES (?, ?, ?, 'letter', ?, '', 'second', 1, ?, ?, ?, 'Commons')
		ON CONFLICT (id) DO NOTHING`, id, serviceID, precompiledTemplateName, precompiledTemplateName, false, true, now)
	if err != nil {
		return fmt.Errorf("precompiled letter template: %w", err)
	}
	if created, _ := res.RowsAffected(); created == 0 {
		return nil
	}
	_, err = tx.Exec(ctx, `INSERT INTO notify_template_versions (template_id, version, service_id, name, template_type,
		subject, content, postage, archived, created_at, created_by)
		VALUES (?, 1, ?, ?, 'letter', ?, '', 'second', ?, ?, 'Commons') ON CONFLICT (template_id, version) DO NOTHING`,
		id, serviceID, precompiledTemplateName, precompiledTemplateName, false, now)
	if err != nil {
		return fmt.Errorf("precompiled letter template: %w", err)
	}
	return nil
}

// decodeBase64Leniently decodes as Python's base64.b64decode does by default: characters
// outside the alphabet are skipped, and the padding must still come out right.
func decodeBase64Leniently(s string) ([]byte, bool) {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '+', r == '/', r == '=':
			return r
		}
		return -1
	}, s)
	b, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		return nil, false
	}
	return b, true
}
