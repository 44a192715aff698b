package notify

import (
	"fmt"
	"net/http"
	"time"

	"github.com/commons-gov/commons/internal/apiauth"
)

// GET /v2/received-text-messages (notify.md §2.12): the service's inbound text messages,
// newest first, a page at a time.

var receivedTextsSchema = requestSchema{fields: []fieldRule{{name: "older_than", kind: ruleUUID}}}

type receivedTextJSON struct {
	ID           string `json:"id"`
	UserNumber   string `json:"user_number"`
	NotifyNumber string `json:"notify_number"`
	CreatedAt    string `json:"created_at"`
	ServiceID    string `json:"service_id"`
	Content      string `json:"content"`
}

func (s *Service) listReceivedTexts(w http.ResponseWriter, r *http.Request, caller apiauth.Identity) error {
	doc := map[string]any{}
	for k, v := range r.URL.Query() {
		doc[k] = v[0]
	}
	if msgs := receivedTextsSchema.validate(doc, schemaContext{}); len(msgs) > 0 {
		return validationError(msgs...)
	}
	where, args := "service_id = ?", []any{caller.ServiceID}
	if older, ok := doc["older_than"].(string); ok {
		// An unknown id compares with NULL, so the page is empty, as GOV.UK Notify's is.
		where += ` AND (created_at, id) < (SELECT created_at, id FROM notify_inbound_sms WHERE id = ? AND service_id = ?)`
		args = append(args, canonicalUUID(older), caller.ServiceID)
	}
	rows, err := s.db.Query(r.Context(), `SELECT id, user_number, notify_number, created_at, service_id, content
		FROM notify_inbound_sms WHERE `+where+fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT %d`, apiPageSize), args...)
	if err != nil {
		return fmt.Errorf("received text messages: %w", err)
	}
	defer rows.Close()
	list := []receivedTextJSON{}
	for rows.Next() {
		var m receivedTextJSON
		var created time.Time
		if err := rows.Scan(&m.ID, &m.UserNumber, &m.NotifyNumber, &created, &m.ServiceID, &m.Content); err != nil {
			return fmt.Errorf("received text messages: %w", err)
		}
		m.CreatedAt = v2Time(created)
		list = append(list, m)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("received text messages: %w", err)
	}
	base := urlRoot(r) + "/v2/received-text-messages"
	links := map[string]string{"current": base}
	if len(list) > 0 {
		links["next"] = base + "?older_than=" + list[len(list)-1].ID
	}
	writeV2JSON(w, http.StatusOK, map[string]any{"received_text_messages": list, "links": links})
	return nil
}
