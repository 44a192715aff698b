package notify

import (
	"strconv"
	"strings"
	"time"

	"github.com/commons-gov/commons/internal/web"
)

// Reading the time a person chose to send a file at: a GOV.UK date input (day, month, year)
// and a time typed as people write times ("9:30am", "14:30", "2pm"), both in UK time.

// readScheduleTime reads the schedule fields of f, recording what is wrong on f. It checks only
// that they make a real time; SendBulkJob checks it is in the next 7 days.
func readScheduleTime(f *web.Form, now time.Time) (time.Time, bool) {
	day, dErr := strconv.Atoi(f.Get("date-day"))
	month, mErr := strconv.Atoi(f.Get("date-month"))
	year, yErr := strconv.Atoi(f.Get("date-year"))
	if f.Get("date-day") == "" && f.Get("date-month") == "" && f.Get("date-year") == "" {
		f.AddError("date-day", "Enter the date to send on")
		return time.Time{}, false
	}
	local := now.In(ukTime)
	if dErr != nil || mErr != nil || yErr != nil || month < 1 || month > 12 || day < 1 || year < local.Year() || year > local.Year()+1 ||
		day > time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		f.AddError("date-day", "Enter a real date, for example "+local.AddDate(0, 0, 1).Format("2 1 2006"))
		return time.Time{}, false
	}
	hour, minute, ok := parseClockTime(f.Get("time"))
	if !ok {
		f.AddError("time", "Enter a time, for example 9:30am or 14:30")
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, 0, 0, ukTime).UTC(), true
}

// parseClockTime reads "14:30", "14.30", "1430", "9:30am", "9am", "12pm", "noon" or "midnight".
func parseClockTime(s string) (hour, minute int, ok bool) {
	s = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	switch s {
	case "noon", "midday":
		return 12, 0, true
	case "midnight":
		return 0, 0, true
	case "":
		return 0, 0, false
	}
	suffix := ""
	for _, sfx := range []string{"am", "pm", "a.m.", "p.m."} {
		if strings.HasSuffix(s, sfx) {
			suffix, s = sfx[:1], strings.TrimSuffix(s, sfx)
			break
		}
	}
	h, m := s, "0"
	if i := strings.IndexAny(s, ":."); i >= 0 {
		h, m = s[:i], s[i+1:]
		if len(m) != 2 {
			return 0, 0, false
		}
	} else if len(s) == 4 && suffix == "" {
		h, m = s[:2], s[2:]
	}
	hour, hErr := strconv.Atoi(h)
	minute, mErr := strconv.Atoi(m)
	if hErr != nil || mErr != nil || len(h) > 2 || minute < 0 || minute > 59 || hour < 0 {
		return 0, 0, false
	}
	switch suffix {
	case "a", "p":
		if hour < 1 || hour > 12 {
			return 0, 0, false
		}
		hour %= 12
		if suffix == "p" {
			hour += 12
		}
	default:
		if hour > 23 {
			return 0, 0, false
		}
	}
	return hour, minute, true
}
