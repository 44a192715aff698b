package notify

import (
	"net/url"
	"testing"
	"time"

	"github.com/commons-gov/commons/internal/web"
)

func TestParseClockTime(t *testing.T) {
	good := map[string][2]int{
		"9:30am": {9, 30}, "9.30 AM": {9, 30}, "12pm": {12, 0}, "12am": {0, 0}, "12:15 p.m.": {12, 15},
		"14:30": {14, 30}, "1430": {14, 30}, "0:05": {0, 5}, "9": {9, 0}, "noon": {12, 0}, "Midnight": {0, 0},
	}
	for in, want := range good {
		h, m, ok := parseClockTime(in)
		if !ok || h != want[0] || m != want[1] {
			t.Errorf("%q read as %d:%02d (%v), want %d:%02d", in, h, m, ok, want[0], want[1])
		}
	}
	for _, in := range []string{"", "25:00", "13pm", "0am", "9:5", "9:60", "nine", "930", "-1:00", "9:30:00"} {
		if h, m, ok := parseClockTime(in); ok {
			t.Errorf("%q read as %d:%02d", in, h, m)
		}
	}
}

func TestReadScheduleTimeIsUKTime(t *testing.T) {
	now := time.Date(2025, 6, 12, 14, 30, 0, 0, time.UTC)
	f := formOf(url.Values{"date-day": {"13"}, "date-month": {"6"}, "date-year": {"2025"}, "time": {"9:30am"}})
	at, ok := readScheduleTime(f, now)
	if !ok || !at.Equal(time.Date(2025, 6, 13, 8, 30, 0, 0, time.UTC)) {
		t.Fatalf("summer time: %s %v %v", at, ok, f.Errors())
	}
	f = formOf(url.Values{"date-day": {"2"}, "date-month": {"1"}, "date-year": {"2026"}, "time": {"9:30am"}})
	if at, ok = readScheduleTime(f, now); !ok || !at.Equal(time.Date(2026, 1, 2, 9, 30, 0, 0, time.UTC)) {
		t.Fatalf("winter time: %s %v", at, ok)
	}
	f = formOf(url.Values{"date-day": {"30"}, "date-month": {"2"}, "date-year": {"2026"}, "time": {"9am"}})
	if _, ok = readScheduleTime(f, now); ok || f.Error("date-day") == "" {
		t.Fatalf("30 February accepted: %v", f.Errors())
	}
}

func formOf(v url.Values) *web.Form {
	f := web.NewForm()
	for k, vals := range v {
		f.Set(k, vals...)
	}
	return f
}

func TestReportCell(t *testing.T) {
	cases := map[string]string{
		"=HYPERLINK(\"x\")":     "'=HYPERLINK(\"x\")",
		"+447700900123":         "+447700900123",
		"+44 (0)7700 900-123":   "+44 (0)7700 900-123",
		"+1+1":                  "'+1+1",
		"@SUM(A1)":              "'@SUM(A1)",
		"A Person\\n1 High St":  "A Person\\n1 High St",
		"A Person\n1 High St":   "A Person, 1 High St",
		"person@example.gov.uk": "person@example.gov.uk",
	}
	for in, want := range cases {
		if got := reportCell(in); got != want {
			t.Errorf("reportCell(%q) = %q, want %q", in, got, want)
		}
	}
}
