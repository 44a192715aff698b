package letter

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func batchItems(t *testing.T) []BatchItem {
	t.Helper()
	one, pages, err := Render(sampleLetter())
	if err != nil {
		t.Fatal(err)
	}
	long := sampleLetter()
	long.Body = strings.Repeat("A longer letter.\n\n***\n\n", 2) + "The end."
	three, _, err := Render(long)
	if err != nil {
		t.Fatal(err)
	}
	return []BatchItem{
		{
			NotificationID: "b2c3d4e5-0000-4000-8000-000000000002", Reference: `ref, with "quotes"`, Postage: "first",
			AddressLines: []string{"B Person", "2 Road", "Town", "SW1A 2AA"}, CreatedAt: testDate.Add(time.Hour), PDF: three,
		},
		{
			NotificationID: "a1b2c3d4-0000-4000-8000-000000000001", Postage: "second", Pages: pages,
			AddressLines: []string{"A Person", "1 Street", "Town", "Shire", "Region", "Area", "SW1A 1AA"},
			CreatedAt:    testDate, PDF: one,
		},
	}
}

func readBatch(t *testing.T, b []byte) (*zip.Reader, [][]string) {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("batch is not a zip: %v", err)
	}
	if z.File[0].Name != ManifestName {
		t.Fatalf("first file is %q, want the manifest", z.File[0].Name)
	}
	f, err := z.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("manifest is not CSV: %v", err)
	}
	return z, rows
}

func TestWriteBatch(t *testing.T) {
	items := batchItems(t)
	var buf bytes.Buffer
	if err := WriteBatch(&buf, items); err != nil {
		t.Fatal(err)
	}
	z, rows := readBatch(t, buf.Bytes())

	wantHeader := []string{"notification_id", "reference", "postage", "pages", "sheets",
		"address_line_1", "address_line_2", "address_line_3", "address_line_4", "address_line_5",
		"address_line_6", "address_line_7", "created_at", "filename"}
	if !slices.Equal(rows[0], wantHeader) {
		t.Fatalf("header = %q", rows[0])
	}
	want := [][]string{
		{items[1].NotificationID, "", "second", "1", "1", "A Person", "1 Street", "Town", "Shire", "Region", "Area", "SW1A 1AA",
			"2026-11-29T10:00:00Z", items[1].NotificationID + ".pdf"},
		{items[0].NotificationID, `ref, with "quotes"`, "first", "3", "2", "B Person", "2 Road", "Town", "SW1A 2AA", "", "", "",
			"2026-11-29T11:00:00Z", items[0].NotificationID + ".pdf"},
	}
	if len(rows) != 3 || !slices.Equal(rows[1], want[0]) || !slices.Equal(rows[2], want[1]) {
		t.Fatalf("manifest rows = %q\nwant %q", rows[1:], want)
	}

	// Every letter is in the zip, in manifest order, byte for byte.
	if len(z.File) != 3 {
		t.Fatalf("zip holds %d files, want 3", len(z.File))
	}
	for i, it := range []BatchItem{items[1], items[0]} {
		f := z.File[i+1]
		if f.Name != it.NotificationID+".pdf" {
			t.Errorf("file %d is %q", i+1, f.Name)
		}
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(r)
		if !bytes.Equal(got, it.PDF) {
			t.Errorf("%s differs from the letter", f.Name)
		}
	}

	var again bytes.Buffer
	if err := WriteBatch(&again, []BatchItem{items[1], items[0]}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("the same letters gave a different batch")
	}
}

func TestWriteBatchEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteBatch(&buf, nil); err != nil {
		t.Fatal(err)
	}
	if z, rows := readBatch(t, buf.Bytes()); len(z.File) != 1 || len(rows) != 1 {
		t.Errorf("empty batch has %d files and %d manifest rows", len(z.File), len(rows))
	}
}

func TestWriteBatchRefuses(t *testing.T) {
	for name, change := range map[string]func([]BatchItem) []BatchItem{
		"path in the id":   func(b []BatchItem) []BatchItem { b[0].NotificationID = "../../etc/passwd"; return b },
		"empty id":         func(b []BatchItem) []BatchItem { b[0].NotificationID = ""; return b },
		"duplicate id":     func(b []BatchItem) []BatchItem { b[1].NotificationID = b[0].NotificationID; return b },
		"unknown postage":  func(b []BatchItem) []BatchItem { b[0].Postage = ""; return b },
		"no PDF":           func(b []BatchItem) []BatchItem { b[0].PDF = nil; return b },
		"not a PDF":        func(b []BatchItem) []BatchItem { b[0].PDF = []byte("hello"); return b },
		"no creation time": func(b []BatchItem) []BatchItem { b[0].CreatedAt = time.Time{}; return b },
		"too many pages":   func(b []BatchItem) []BatchItem { b[0].Pages = MaxPages + 1; return b },
		"eight address lines": func(b []BatchItem) []BatchItem {
			b[0].AddressLines = strings.Split("a b c d e f g h", " ")
			return b
		},
	} {
		var buf bytes.Buffer
		if err := WriteBatch(&buf, change(batchItems(t))); !errors.Is(err, ErrInvalidBatch) {
			t.Errorf("%s: error = %v, want ErrInvalidBatch", name, err)
		}
	}
}
