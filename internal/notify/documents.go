package notify

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/notify/content"
)

// Files sent by email, from the recipient's side: the link in the email opens a download page
// (documents_pages.go). This file holds what that page asks of the database — finding a file
// by its link, checking the recipient's email address with a bounded number of tries — and
// the proof, kept in a cookie, that the address was confirmed.

// maxDocumentAttempts is how many wrong email addresses lock a file for good. Five lets a
// person mistype a few times; a link that has leaked gives five guesses at the address.
const maxDocumentAttempts = 5

// documentProofLifetime is how long a confirmed email address lets the browser download the
// file before it is asked again.
const documentProofLifetime = 30 * time.Minute

// Why a download link does not lead to a file. The page shown for the first two is the same
// and says nothing about which it was.
var (
	errDocumentNotFound = errors.New("document not found or wrong key")
	errDocumentExpired  = errors.New("document past its retention period")
	errDocumentLocked   = errors.New("document locked after too many wrong email addresses")
)

// document is a file sent by email, without its content.
type document struct {
	ID             string
	ServiceID      string
	NotificationID string
	Filename       string
	MimeType       string
	Size           int64
	ConfirmEmail   string // the address the recipient must type; "" when no check is asked for
	ExpiresAt      time.Time
	FailedAttempts int
}

// openDocument finds the file a download link names, checking the link's key against the
// stored hash in constant time. It fails with errDocumentNotFound for an unknown id or a
// wrong key alike, errDocumentExpired when the retention period has ended and
// errDocumentLocked (with the file, for the page that says so) after too many wrong email
// addresses — in that order, so that only a holder of the right key learns anything about the
// file.
func (s *Service) openDocument(ctx context.Context, id, key string) (document, error) {
	if !validUUID(id) || key == "" {
		return document{}, errDocumentNotFound
	}
	var d document
	var keyHash string
	err := s.db.QueryRow(ctx, `SELECT id, service_id, notification_id, key_hash, filename, mime_type,
		length(content), confirm_email, expires_at, failed_attempts FROM notify_documents WHERE id = ?`, id).Scan(
		&d.ID, &d.ServiceID, &d.NotificationID, &keyHash, &d.Filename, &d.MimeType, &d.Size, &d.ConfirmEmail,
		&d.ExpiresAt, &d.FailedAttempts)
	if db.IsNoRows(err) {
		return document{}, errDocumentNotFound
	}
	if err != nil {
		return document{}, fmt.Errorf("open document: %w", err)
	}
	sum := sha256.Sum256([]byte(key))
	if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(keyHash)) != 1 {
		return document{}, errDocumentNotFound
	}
	if !s.now().Before(d.ExpiresAt) {
		return document{}, errDocumentExpired
	}
	if d.FailedAttempts >= maxDocumentAttempts {
		return d, errDocumentLocked
	}
	return d, nil
}

// documentContent reads a file's bytes.
func (s *Service) documentContent(ctx context.Context, id string) ([]byte, error) {
	var b []byte
	if err := s.db.QueryRow(ctx, `SELECT content FROM notify_documents WHERE id = ?`, id).Scan(&b); err != nil {
		return nil, fmt.Errorf("read document: %w", err)
	}
	return b, nil
}

// errNotAnEmailAddress means what the person typed cannot be anyone's email address; it costs
// them no try.
var errNotAnEmailAddress = errors.New("not an email address")

// confirmDocumentEmail checks the address a person typed against the one the file was sent
// to, both normalised as sending normalises recipients, compared in constant time. Each check
// first takes one of the file's tries and gives it back when the address is right, so that
// however many requests arrive at once, no more than maxDocumentAttempts wrong addresses are
// ever compared. It returns the tries left after a wrong address, and errDocumentLocked when
// none are.
func (s *Service) confirmDocumentEmail(ctx context.Context, d document, typed string) (ok bool, left int, err error) {
	addr, verr := content.ValidateEmail(typed)
	if verr != nil {
		return false, maxDocumentAttempts - d.FailedAttempts, errNotAnEmailAddress
	}
	var used int
	err = s.db.QueryRow(ctx, `UPDATE notify_documents SET failed_attempts = failed_attempts + 1
		WHERE id = ? AND failed_attempts < ? RETURNING failed_attempts`, d.ID, maxDocumentAttempts).Scan(&used)
	if db.IsNoRows(err) {
		return false, 0, errDocumentLocked
	}
	if err != nil {
		return false, 0, fmt.Errorf("confirm document email: %w", err)
	}
	typedSum, wantSum := sha256.Sum256([]byte(addr)), sha256.Sum256([]byte(d.ConfirmEmail))
	if subtle.ConstantTimeCompare(typedSum[:], wantSum[:]) == 1 {
		if _, err := s.db.Exec(ctx, `UPDATE notify_documents SET failed_attempts = failed_attempts - 1
			WHERE id = ? AND failed_attempts > 0`, d.ID); err != nil {
			return false, 0, fmt.Errorf("confirm document email: %w", err)
		}
		return true, 0, nil
	}
	if used >= maxDocumentAttempts {
		return false, 0, errDocumentLocked
	}
	return false, maxDocumentAttempts - used, nil
}

// documentProofContext binds a proof to one file and the address it was sent to, so that it
// opens nothing else.
func documentProofContext(d document) []byte {
	return []byte("notify document confirmed\x00" + d.ID + "\x00" + d.ConfirmEmail)
}

// documentProof seals the time until which the browser may download d without confirming its
// email address again. Sealing (AES-GCM under the secret key) makes it unforgeable and keeps
// it valid on every node.
func (s *Service) documentProof(d document) string {
	var until [8]byte
	binary.BigEndian.PutUint64(until[:], uint64(s.now().Add(documentProofLifetime).Unix()))
	return s.cfg.Keyring.Encrypt(until[:], documentProofContext(d))
}

// checkDocumentProof reports whether proof is a current proof for d.
func (s *Service) checkDocumentProof(d document, proof string) bool {
	if proof == "" || s.cfg.Keyring == nil {
		return false
	}
	plain, err := s.cfg.Keyring.Decrypt(proof, documentProofContext(d))
	if err != nil || len(plain) != 8 {
		return false
	}
	until := time.Unix(int64(binary.BigEndian.Uint64(plain)), 0)
	return s.now().Before(until)
}

// purgeDocuments deletes the files sent by email whose own retention period (26 weeks unless
// the sender chose otherwise) has ended. It is the last step of PurgeExpired and returns that
// run's earlier error, if any, joined with its own, so that neither hides the other. A file's
// retention is its own, as with GOV.UK Notify: it outlives the email that linked to it.
func (d *Delivery) purgeDocuments(ctx context.Context, now time.Time, earlier error) error {
	_, err := d.purge(ctx, `DELETE FROM notify_documents WHERE id IN (SELECT id FROM notify_documents
		WHERE expires_at <= ? LIMIT ?) RETURNING id`, []any{now, maintenanceBatch},
		func(context.Context, *db.Tx, []any) error { return nil })
	return errors.Join(earlier, err)
}
