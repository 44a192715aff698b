package notify

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/commons-gov/commons/internal/db"
)

// Sending a file by email (notify.md §2.14): a personalisation value {"file": <base64>, …}
// becomes a link to a download page. Commons keeps the file itself, in notify_documents,
// stored in the transaction that stores the email, so a refused email leaves no file behind.

// MaxDocumentBytes is the largest file that can be sent by email, as the clients enforce.
const MaxDocumentBytes = 2 << 20

// defaultDocumentRetention is how long a file can be downloaded when the request says nothing.
const defaultDocumentRetention = 26 * 7 * 24 * time.Hour

// documentTypes are the files that may be sent, by extension, with the type they are served as.
var documentTypes = map[string]string{
	".csv": "text/csv", ".jpeg": "image/jpeg", ".jpg": "image/jpeg", ".png": "image/png",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".doc":  "application/msword", ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".pdf": "application/pdf", ".json": "application/json", ".odt": "application/vnd.oasis.opendocument.text",
	".rtf": "application/rtf", ".txt": "text/plain",
}

// sniffedTypes maps what the content looks like to a type, for files sent without a name.
var sniffedTypes = map[string]string{
	"application/pdf": "application/pdf", "image/png": "image/png", "image/jpeg": "image/jpeg",
	"text/plain; charset=utf-8": "text/plain", "application/zip": "",
}

// pendingDocument is a file waiting to be stored with its email.
type pendingDocument struct {
	id, keyHash, filename, mimeType, confirmEmail string
	content                                       []byte
	expires                                       time.Time
}

var retentionPeriodPattern = regexp.MustCompile(`^(\d+) weeks?$`)

// checkFileObject applies GOV.UK Notify's send_a_file_validation schema to one file object:
// unexpected keys first, then each property in schema order, then is_csv with filename.
func checkFileObject(obj map[string]any) []string {
	var msgs []string
	known := map[string]bool{"file": true, "is_csv": true, "confirm_email_before_download": true, "retention_period": true, "filename": true}
	var extra []string
	for k := range obj {
		if !known[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		msgs = append(msgs, unexpectedProperties(extra))
	}
	str := func(v any) string {
		if s, ok := v.(string); ok {
			return s
		}
		return pyRepr(v)
	}
	if v, ok := obj["file"]; ok {
		if _, isString := v.(string); !isString {
			msgs = append(msgs, "file "+pyRepr(v)+" is not of type string")
		}
	}
	for _, k := range []string{"is_csv", "confirm_email_before_download"} {
		if v, ok := obj[k]; ok && v != nil {
			if _, isBool := v.(bool); !isBool {
				msgs = append(msgs, stripQuotes(k+" Unsupported value for "+k+": "+str(v)+". Use a boolean true or false value."))
			}
		}
	}
	if v, ok := obj["retention_period"]; ok && v != nil {
		if _, ok := retentionWeeks(v); !ok {
			msgs = append(msgs, stripQuotes("retention_period Unsupported value for retention_period: "+str(v)+". Supported periods are from 1 to 78 weeks."))
		}
	}
	if v, ok := obj["filename"]; ok && v != nil {
		if s, isString := v.(string); !isString || !strings.Contains(s, ".") {
			msgs = append(msgs, "filename `filename` must end with a file extension. For example, filename.csv")
		}
	}
	_, hasCSV := obj["is_csv"]
	_, hasName := obj["filename"]
	if hasCSV && hasName {
		msgs = append(msgs, "Do not set a value for `is_csv` if `filename` is set.")
	}
	return msgs
}

// retentionWeeks reads "<n> week(s)", 1 to 78.
func retentionWeeks(v any) (int, bool) {
	s, ok := v.(string)
	if !ok {
		return 0, false
	}
	m := retentionPeriodPattern.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil && n >= 1 && n <= 78
}

// attachFiles validates the files in an email's personalisation and replaces each with the
// link to its download page. It returns the files to store with the email (none for a
// simulated recipient, which gets a placeholder link).
func (s *Service) attachFiles(sc sendContext, personalisation map[string]any, recipient string, simulated bool) (map[string]any, []pendingDocument, error) {
	var keys []string
	for k, v := range personalisation {
		if m, ok := v.(map[string]any); ok {
			if _, ok := m["file"]; ok {
				keys = append(keys, k)
			}
		}
	}
	if len(keys) == 0 {
		return personalisation, nil, nil
	}
	for _, k := range keys {
		if msgs := checkFileObject(personalisation[k].(map[string]any)); len(msgs) > 0 {
			return nil, nil, validationError(msgs...)
		}
	}
	if sc.settings.ContactLink == "" {
		return nil, nil, badRequest("Send files by email has not been set up - add contact details for your service at %s/admin/services/%s/settings",
			strings.TrimRight(s.cfg.BaseURL, "/"), sc.caller.ServiceID)
	}
	out := make(map[string]any, len(personalisation))
	maps.Copy(out, personalisation)
	var docs []pendingDocument
	for _, k := range keys {
		if simulated {
			out[k] = s.documentBase() + "/services/" + sc.caller.ServiceID + "/documents/test-document"
			continue
		}
		doc, link, err := s.prepareDocument(personalisation[k].(map[string]any), recipient)
		if err != nil {
			return nil, nil, err
		}
		docs = append(docs, doc)
		out[k] = link
	}
	return out, docs, nil
}

// documentBase is where download links point.
func (s *Service) documentBase() string {
	base := strings.TrimRight(s.cfg.BaseURL, "/")
	if base == "" {
		base = "http://localhost:8080"
	}
	return base
}

// prepareDocument decodes and checks one file and makes its link.
func (s *Service) prepareDocument(obj map[string]any, recipient string) (pendingDocument, string, error) {
	raw, _ := obj["file"].(string)
	data, err := base64.StdEncoding.DecodeString(strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' {
			return -1
		}
		return r
	}, raw))
	if err != nil {
		return pendingDocument{}, "", badRequest("Document is not base64 encoded")
	}
	if len(data) > MaxDocumentBytes {
		return pendingDocument{}, "", newV2Error(http.StatusRequestEntityTooLarge, errTypeBadRequest, "File is larger than 2MB")
	}
	filename, _ := obj["filename"].(string)
	isCSV, _ := obj["is_csv"].(bool)
	var mimeType string
	switch {
	case filename != "":
		mimeType = documentTypes[strings.ToLower(path.Ext(filename))]
	case isCSV:
		mimeType = documentTypes[".csv"]
	default:
		mimeType = sniffedTypes[http.DetectContentType(data)]
	}
	if mimeType == "" {
		return pendingDocument{}, "", badRequest("Unsupported file type. Supported types are: CSV, JPEG, PNG, XLSX, DOC, DOCX, PDF, JSON, ODT, RTF and TXT")
	}
	retention := defaultDocumentRetention
	if weeks, ok := retentionWeeks(obj["retention_period"]); ok {
		retention = time.Duration(weeks) * 7 * 24 * time.Hour
	}
	doc := pendingDocument{id: uuid.NewString(), filename: filename, mimeType: mimeType, content: data,
		expires: s.now().Add(retention)}
	if confirm, set := obj["confirm_email_before_download"].(bool); !set || confirm {
		doc.confirmEmail = recipient
	}
	var key [24]byte
	if _, err := rand.Read(key[:]); err != nil {
		return pendingDocument{}, "", fmt.Errorf("document key: %w", err)
	}
	secret := base64.RawURLEncoding.EncodeToString(key[:])
	sum := sha256.Sum256([]byte(secret))
	doc.keyHash = hex.EncodeToString(sum[:])
	return doc, s.documentBase() + "/d/" + doc.id + "?key=" + secret, nil
}

// storeDocuments writes an email's files in the transaction that stores the email.
func storeDocuments(ctx context.Context, tx *db.Tx, n *Notification, docs []pendingDocument, now time.Time) error {
	for _, d := range docs {
		if _, err := tx.Exec(ctx, `INSERT INTO notify_documents (id, service_id, notification_id, key_hash, filename,
			mime_type, content, confirm_email, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.id, n.ServiceID, n.ID, d.keyHash, d.filename, d.mimeType, d.content, d.confirmEmail, d.expires, now); err != nil {
			return fmt.Errorf("store file: %w", err)
		}
	}
	return nil
}
