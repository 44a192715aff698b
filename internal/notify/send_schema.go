package notify

import (
	"encoding/json"
	"github.com/commons-gov/commons/internal/notify/content"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Request validation for the /v2 API. GOV.UK Notify validates each request body against a JSON
// schema and words every failure as "<field> <text>" with single quotes removed (notify.md
// §3.3). Clients and integration tests compare these messages, so this file reproduces them:
// the order of the checks (type, then the property rules in schema order, then required
// properties, then unexpected ones), Python's way of printing the offending value, and the
// fixed texts of UUID, URL and date fields.

// ruleKind is what one property must be.
type ruleKind int

const (
	ruleString       ruleKind = iota // a string, at most max characters when max > 0
	ruleUUID                         // a UUID string; every failure reads "is not a valid UUID"
	ruleObject                       // a JSON object
	ruleEmail                        // a string that is a valid email address
	rulePhone                        // a string that is a valid phone number (any country, landlines too)
	ruleHTTPS                        // an https URL; every failure reads "is not a valid https url"
	ruleArrayOrNull                  // an array or null
	ruleScheduledFor                 // a string or null, an ISO 8601 time within the scheduling window
	rulePostage                      // a string: first, second or economy
	ruleEnum                         // one of values
	ruleArrayOfEnum                  // an array whose items are each one of values
)

type fieldRule struct {
	name   string
	kind   ruleKind
	max    int
	values []string
}

// requestSchema is the shape of one request: its properties in the reference's schema order,
// which properties are required, and whether others are refused.
type requestSchema struct {
	fields         []fieldRule
	required       []string
	allowUnlisted  bool
	scheduleWithin time.Duration // ruleScheduledFor's window
}

// schemaContext carries what a few rules need from outside the body.
type schemaContext struct {
	now time.Time
}

// validate checks body (a decoded JSON document) and returns the error messages in the
// reference's order, duplicates removed by validationError.
func (sc requestSchema) validate(body any, c schemaContext) []string {
	obj, ok := body.(map[string]any)
	if !ok {
		return []string{pyRepr(body) + " is not of type object"}
	}
	var msgs []string
	for _, f := range sc.fields {
		v, present := obj[f.name]
		if !present {
			continue
		}
		msgs = append(msgs, f.check(v, sc, c)...)
	}
	for _, name := range sc.required {
		if _, present := obj[name]; !present {
			msgs = append(msgs, name+" is a required property")
		}
	}
	if !sc.allowUnlisted {
		var extra []string
		for k := range obj {
			if !slices.ContainsFunc(sc.fields, func(f fieldRule) bool { return f.name == k }) {
				extra = append(extra, k)
			}
		}
		if len(extra) > 0 {
			msgs = append(msgs, unexpectedProperties(extra))
		}
	}
	return msgs
}

// unexpectedProperties words the additionalProperties failure, names sorted as the reference
// sorts them.
func unexpectedProperties(names []string) string {
	sort.Strings(names)
	verb := "was"
	if len(names) > 1 {
		verb = "were"
	}
	return stripQuotes("Additional properties are not allowed (" + strings.Join(names, ", ") + " " + verb + " unexpected)")
}

// check returns the messages for one property's value.
func (f fieldRule) check(v any, sc requestSchema, c schemaContext) []string {
	prefix := f.name + " "
	notType := func(types string) []string {
		return []string{prefix + pyRepr(v) + " is not of type " + types}
	}
	switch f.kind {
	case ruleUUID:
		if s, ok := v.(string); !ok || !validUUID(s) {
			return []string{prefix + "is not a valid UUID"}
		}
	case ruleHTTPS:
		if s, ok := v.(string); !ok || !validHTTPSURL(s) {
			return []string{prefix + "is not a valid https url"}
		}
	case ruleString:
		s, ok := v.(string)
		if !ok {
			return notType("string")
		}
		if f.max > 0 && pyLen(s) > f.max {
			return []string{prefix + pyRepr(s) + " is too long"}
		}
	case ruleObject:
		if _, ok := v.(map[string]any); !ok {
			return notType("object")
		}
	case ruleEmail:
		s, ok := v.(string)
		if !ok {
			return notType("string")
		}
		if _, err := checkEmailAddress(s); err != nil {
			return []string{prefix + stripQuotes(err.Error())}
		}
	case rulePhone:
		s, ok := v.(string)
		if !ok {
			return notType("string")
		}
		if msg := schemaPhoneError(s); msg != "" {
			return []string{prefix + stripQuotes(msg)}
		}
	case ruleArrayOrNull:
		if _, ok := v.([]any); !ok && v != nil {
			return notType("array, null")
		}
	case ruleScheduledFor:
		if v == nil {
			return nil
		}
		s, ok := v.(string)
		if !ok {
			return notType("string, null")
		}
		if msg := checkScheduledFor(s, c.now, sc.scheduleWithin); msg != "" {
			return []string{prefix + msg}
		}
	case rulePostage:
		s, ok := v.(string)
		if !ok {
			return notType("string")
		}
		if !letterPostage[s] {
			return []string{prefix + "invalid. It must be either first, second or economy."}
		}
	case ruleEnum:
		if s, ok := v.(string); !ok || !slices.Contains(f.values, s) {
			return []string{prefix + stripQuotes(pyRepr(v)+" is not one of "+pyRepr(stringsToAny(f.values)))}
		}
	case ruleArrayOfEnum:
		items, ok := v.([]any)
		if !ok {
			return notType("array")
		}
		var msgs []string
		for _, it := range items {
			if s, ok := it.(string); !ok || !slices.Contains(f.values, s) {
				msgs = append(msgs, prefix+stripQuotes(pyRepr(it)+" is not one of "+pyRepr(stringsToAny(f.values))))
			}
		}
		return msgs
	}
	return nil
}

func stringsToAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// validUUID accepts what Python's UUID() accepts: 32 hex digits with or without hyphens,
// braces or a urn:uuid: prefix, in any case.
func validUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil
}

// canonicalUUID returns the lowercase hyphenated form of a valid UUID string.
func canonicalUUID(s string) string {
	u, err := uuid.Parse(s)
	if err != nil {
		return s
	}
	return u.String()
}

// validHTTPSURL is the reference's rule for one_click_unsubscribe_url: an absolute URI that
// starts with https.
func validHTTPSURL(s string) bool {
	if !strings.HasPrefix(s, "https") {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && !strings.ContainsAny(s, " \t\r\n")
}

// Texts of the scheduled_for rule.
const (
	scheduledForFormat = "datetime format is invalid. It must be a valid ISO8601 date time format, https://en.wikipedia.org/wiki/ISO_8601"
	scheduledForPast   = "datetime can not be in the past"
)

// scheduledForTooFar words the upper bound: GOV.UK Notify's "24 hours", or Commons' days.
func scheduledForTooFar(within time.Duration) string {
	if within%(24*time.Hour) == 0 && within > 24*time.Hour {
		return "datetime can only be " + strconv.Itoa(int(within/(24*time.Hour))) + " days in the future"
	}
	return "datetime can only be " + strconv.Itoa(int(within.Hours())) + " hours in the future"
}

// scheduleWindow is how far ahead scheduled_for may be. GOV.UK Notify accepts 24 hours and
// then ignores the field; Commons really schedules, up to 7 days ahead, as Notify's own CSV
// jobs may be.
const scheduleWindow = 7 * 24 * time.Hour

// checkScheduledFor returns the message for a bad scheduled_for, or "".
func checkScheduledFor(s string, now time.Time, within time.Duration) string {
	t, ok := parseISODateTime(s)
	if !ok {
		return scheduledForFormat
	}
	if t.Before(now) {
		return scheduledForPast
	}
	if t.After(now.Add(within)) {
		return scheduledForTooFar(within)
	}
	return ""
}

// parseISODateTime reads the ISO 8601 forms Python's datetime.fromisoformat reads: a date, or
// a date and time separated by T or a space, with optional seconds, fractions and offset. A
// time without an offset is UTC.
func parseISODateTime(s string) (time.Time, bool) {
	layouts := []string{
		"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999", "2006-01-02T15:04Z07:00",
		"2006-01-02T15:04", "2006-01-02T15Z07:00", "2006-01-02T15", "2006-01-02",
		"2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999Z07",
	}
	candidates := []string{s}
	if len(s) > 10 && s[10] == ' ' {
		candidates = append(candidates, s[:10]+"T"+s[11:])
	}
	for _, c := range candidates {
		for _, l := range layouts {
			if t, err := time.Parse(l, c); err == nil {
				return t.UTC(), true
			}
		}
	}
	return time.Time{}, false
}

// stripQuotes removes single quotes, as the reference does to every schema message.
func stripQuotes(s string) string { return strings.ReplaceAll(s, "'", "") }

// pyLen is the length Python gives a string: code points.
func pyLen(s string) int { return len([]rune(s)) }

// pyRepr prints a decoded JSON value as Python's repr prints the same value, since the
// reference puts it into "is not of type" messages. Quotes are stripped afterwards.
func pyRepr(v any) string {
	var b strings.Builder
	writePyRepr(&b, v)
	return stripQuotes(b.String())
}

func writePyRepr(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case string:
		b.WriteString(pyStringRepr(x))
	case json.Number:
		b.WriteString(content.PythonNumber(string(x)))
	case float64:
		b.WriteString(content.PythonFloat(x))
	case []any:
		b.WriteByte('[')
		for i, it := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writePyRepr(b, it)
		}
		b.WriteByte(']')
	case map[string]any:
		// Python keeps the document's key order; a Go map has none, so keys are sorted to
		// keep the message stable.
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pyStringRepr(k))
			b.WriteString(": ")
			writePyRepr(b, x[k])
		}
		b.WriteByte('}')
	default:
		b.WriteString("?")
	}
}

func pyStringRepr(s string) string {
	q := "'"
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = `"`
	}
	var b strings.Builder
	b.WriteString(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case string(r) == q:
			b.WriteString(`\` + q)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x` + strconv.FormatInt(int64(r)+0x100, 16)[1:])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteString(q)
	return b.String()
}
