package letter

import (
	"archive/zip"
	"bytes"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// BatchItem is one letter handed to the printer.
type BatchItem struct {
	NotificationID string // names the PDF in the batch, so letters, ids and returns match up
	Reference      string // the service's own reference, if it gave one
	Postage        string // first, second, economy, europe or rest-of-world
	// Pages is the letter's page count; zero means count it from the PDF.
	Pages        int
	AddressLines []string
	CreatedAt    time.Time
	PDF          []byte
}

// ManifestName is the name of the index file in a batch.
const ManifestName = "manifest.csv"

// maxAddressLines is how many address columns the manifest has (Notify's address_line_1–7).
const maxAddressLines = 7

// ErrInvalidBatch is returned by WriteBatch for a letter that cannot go to print as given.
var ErrInvalidBatch = errors.New("letter: invalid print batch")

// safeID is what a notification id may contain to be used as a file name in the zip: no
// separators or dots that could climb out of the folder the printer unpacks into.
var safeID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

// WriteBatch writes letters as a zip for the printer: manifest.csv first, so that a reader
// streaming the archive has the index before the files, then one "<notification id>.pdf" per
// letter. Letters are ordered by creation time, then id, and every timestamp in the archive
// comes from the letters, so the same letters always give the same bytes.
//
// The manifest has a header row and the columns notification_id, reference, postage, pages,
// sheets (pages printed on both sides), address_line_1 to address_line_7, created_at (RFC
// 3339, UTC) and filename. Values are written as given: the file is read by the print
// system, not opened in a spreadsheet, so nothing is escaped beyond CSV quoting.
func WriteBatch(w io.Writer, letters []BatchItem) error {
	items := slices.Clone(letters)
	seen := map[string]bool{}
	for i := range items {
		it := &items[i]
		switch {
		case !safeID.MatchString(it.NotificationID):
			return fmt.Errorf("%w: notification id %q cannot name a file", ErrInvalidBatch, it.NotificationID)
		case seen[it.NotificationID]:
			return fmt.Errorf("%w: notification %s appears twice", ErrInvalidBatch, it.NotificationID)
		case !postages[it.Postage]:
			return fmt.Errorf("%w: notification %s has unknown postage %q", ErrInvalidBatch, it.NotificationID, it.Postage)
		case len(it.AddressLines) > maxAddressLines:
			return fmt.Errorf("%w: notification %s has %d address lines", ErrInvalidBatch, it.NotificationID, len(it.AddressLines))
		case it.CreatedAt.IsZero():
			return fmt.Errorf("%w: notification %s has no creation time", ErrInvalidBatch, it.NotificationID)
		case len(it.PDF) == 0:
			return fmt.Errorf("%w: notification %s has no PDF", ErrInvalidBatch, it.NotificationID)
		}
		seen[it.NotificationID] = true
		if it.Pages == 0 {
			n, err := CheckPrecompiled(it.PDF)
			if err != nil {
				return fmt.Errorf("%w: notification %s: %w", ErrInvalidBatch, it.NotificationID, err)
			}
			it.Pages = n
		}
		if it.Pages < 1 || TooLong(it.Pages) {
			return fmt.Errorf("%w: notification %s has %d pages", ErrInvalidBatch, it.NotificationID, it.Pages)
		}
	}
	slices.SortFunc(items, func(a, b BatchItem) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.NotificationID, b.NotificationID))
	})

	manifest, err := writeManifest(items)
	if err != nil {
		return err
	}
	var newest time.Time
	for _, it := range items {
		if it.CreatedAt.After(newest) {
			newest = it.CreatedAt.UTC()
		}
	}
	z := zip.NewWriter(w)
	if err := addFile(z, ManifestName, newest, manifest); err != nil {
		return err
	}
	for _, it := range items {
		if err := addFile(z, it.NotificationID+".pdf", it.CreatedAt.UTC(), it.PDF); err != nil {
			return err
		}
	}
	if err := z.Close(); err != nil {
		return fmt.Errorf("letter: write batch: %w", err)
	}
	return nil
}

func writeManifest(items []BatchItem) ([]byte, error) {
	var buf bytes.Buffer
	c := csv.NewWriter(&buf)
	c.UseCRLF = true // RFC 4180
	header := []string{"notification_id", "reference", "postage", "pages", "sheets"}
	for i := 1; i <= maxAddressLines; i++ {
		header = append(header, "address_line_"+strconv.Itoa(i))
	}
	header = append(header, "created_at", "filename")
	if err := c.Write(header); err != nil {
		return nil, fmt.Errorf("letter: write manifest: %w", err)
	}
	for _, it := range items {
		row := []string{it.NotificationID, it.Reference, it.Postage,
			strconv.Itoa(it.Pages), strconv.Itoa((it.Pages + 1) / 2)}
		for i := range maxAddressLines {
			line := ""
			if i < len(it.AddressLines) {
				line = it.AddressLines[i]
			}
			row = append(row, line)
		}
		row = append(row, it.CreatedAt.UTC().Format(time.RFC3339), it.NotificationID+".pdf")
		if err := c.Write(row); err != nil {
			return nil, fmt.Errorf("letter: write manifest: %w", err)
		}
	}
	c.Flush()
	if err := c.Error(); err != nil {
		return nil, fmt.Errorf("letter: write manifest: %w", err)
	}
	return buf.Bytes(), nil
}

func addFile(z *zip.Writer, name string, modified time.Time, data []byte) error {
	f, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: modified})
	if err == nil {
		_, err = f.Write(data)
	}
	if err != nil {
		return fmt.Errorf("letter: write batch: %s: %w", name, err)
	}
	return nil
}
