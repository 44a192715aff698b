package web

import (
	"fmt"
	"html/template"
	"strconv"
	"time"
	_ "time/tzdata" // UK times render the same on hosts without a zoneinfo database
)

// Field describes one form input for the shared partials ("input", "password", "radios",
// "checkboxes", "select"). Templates build it with the field function:
//
//	{{template "input" (field .Data.Form "email" "Email address" "type" "email" "autocomplete" "email")}}
//
// Value and Error come from the form, so a redisplayed page shows what the person typed and
// what is wrong with it.
type Field struct {
	Form         *Form
	Name         string
	Label        string
	Hint         string
	Type         string   // input type: text (default), email, number, date
	Autocomplete string   // the autocomplete attribute, which helps password managers and autofill
	Class        string   // extra input classes, such as a width (govuk-input--width-20)
	Heading      bool     // the label or legend is the page's h1
	Options      []Option // for radios, checkboxes and select
}

// Option is one choice in radios, checkboxes or a select.
type Option struct {
	Value string
	Label string
	Hint  string
}

// ID returns the id of the field's first input, which the error summary links to.
func (f Field) ID() string { return f.Name }

// OptionID returns the id of the i-th option's input, numbered as GOV.UK Frontend numbers
// them so that the first one shares the field's id.
func (f Field) OptionID(i int) string {
	if i == 0 {
		return f.Name
	}
	return f.Name + "-" + strconv.Itoa(i+1)
}

// Value returns what the person typed, for redisplay.
func (f Field) Value() string { return f.Form.Get(f.Name) }

// Error returns the field's error message, or "".
func (f Field) Error() string { return f.Form.Error(f.Name) }

// Checked reports whether an option is selected in the form.
func (f Field) Checked(value string) bool { return f.Form.Has(f.Name, value) }

// DescribedBy returns the aria-describedby ids of the field's hint and error.
func (f Field) DescribedBy() string {
	s := ""
	if f.Hint != "" {
		s = f.Name + "-hint"
	}
	if f.Error() != "" {
		if s != "" {
			s += " "
		}
		s += f.Name + "-error"
	}
	return s
}

// newField builds a Field from a form, a name, a label and key/value options (hint, type,
// autocomplete, class, heading, options). Unknown keys fail at render time, which the page
// tests catch, rather than silently dropping an option.
func newField(form *Form, name, label string, kv ...any) (Field, error) {
	f := Field{Form: form, Name: name, Label: label}
	if len(kv)%2 != 0 {
		return f, fmt.Errorf("field %s: options must be key/value pairs", name)
	}
	for i := 0; i < len(kv); i += 2 {
		key, _ := kv[i].(string)
		var ok bool
		switch key {
		case "hint":
			f.Hint, ok = kv[i+1].(string)
		case "type":
			f.Type, ok = kv[i+1].(string)
		case "autocomplete":
			f.Autocomplete, ok = kv[i+1].(string)
		case "class":
			f.Class, ok = kv[i+1].(string)
		case "heading":
			f.Heading, ok = kv[i+1].(bool)
		case "options":
			f.Options, ok = kv[i+1].([]Option)
		}
		if !ok {
			return f, fmt.Errorf("field %s: bad option %v=%v", name, kv[i], kv[i+1])
		}
	}
	return f, nil
}

// SummaryRow is one row of a GOV.UK summary list.
type SummaryRow struct {
	Key   string
	Value string
	Tag   *Tag   // shown after the value, for statuses
	Href  string // an action link, such as "Change"
	// Action is the link text; ActionFor is read by screen readers after it ("Change name").
	Action    string
	ActionFor string
}

// Table is a GOV.UK table: a caption, column headings and rows of cells.
type Table struct {
	Caption string
	Head    []string
	Rows    [][]Cell
}

// Cell is one table cell: text, optionally a link or a tag.
type Cell struct {
	Text    string
	Href    string
	Tag     *Tag
	Numeric bool
}

// Tag is a GOV.UK tag: a short status label. Colour is one of the GOV.UK tag colours (grey,
// green, turquoise, blue, light-blue, purple, pink, red, orange, yellow) or "" for the default.
type Tag struct {
	Text   string
	Colour string
}

// templateFuncs are available to every page template.
func templateFuncs(assetURL func(string) string) template.FuncMap {
	return template.FuncMap{
		"field": newField,
		"asset": assetURL,
		"tag":   func(text, colour string) *Tag { return &Tag{Text: text, Colour: colour} },
		"date":  formatAnyTime,
		"join": func(sep string, items []string) string {
			out := ""
			for i, s := range items {
				if i > 0 {
					out += sep
				}
				out += s
			}
			return out
		},
	}
}

// london is the zone people read times in; the database keeps UTC.
var london = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		return time.UTC
	}
	return loc
}()

// FormatTime writes a time the GOV.UK way ("4 June 2025 at 3:04pm"), in UK time. The zero
// time is "Never", which is what an unused key's last-used time means.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return "Never"
	}
	return t.In(london).Format("2 January 2006 at 3:04pm")
}

// formatAnyTime lets templates format both a time and an optional one (nil is "Never").
func formatAnyTime(v any) (string, error) {
	switch t := v.(type) {
	case time.Time:
		return FormatTime(t), nil
	case *time.Time:
		if t == nil {
			return FormatTime(time.Time{}), nil
		}
		return FormatTime(*t), nil
	}
	return "", fmt.Errorf("date: cannot format %T", v)
}
