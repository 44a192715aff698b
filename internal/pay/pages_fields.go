package pay

import (
	"fmt"
	"strings"
)

// payField describes one text input of the card form for the "pay-input" partial. The label,
// hint and error are already in the page's language.
type payField struct {
	Name, Label, Hint, Error, ErrorPrefix, Value string
	Type, Autocomplete, InputMode, Class         string
	// Secret fields never carry the value typed: the card number and security code are typed
	// again on a redisplayed form, so that they appear in no page, cache or history.
	Secret       bool
	NoSpellcheck bool
}

// DescribedBy returns the aria-describedby ids of the field's hint and error.
func (f payField) DescribedBy() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, f.Name+"-hint")
	}
	if f.Error != "" {
		ids = append(ids, f.Name+"-error")
	}
	return strings.Join(ids, " ")
}

// newPayField is the template function field: a field of the page's form, labelled with a
// catalogue key, with options as key/value pairs (hint is a catalogue key; autocomplete,
// inputmode, class and type are attributes; secret and nospellcheck are "true"). An unknown
// option or key fails the render, which the page tests catch.
func newPayField(data payPage, name, labelKey string, kv ...string) (payField, error) {
	label, err := message(data.Lang, labelKey)
	if err != nil {
		return payField{}, err
	}
	f := payField{Name: name, Label: label, Type: "text", Error: data.Form.Error(name),
		ErrorPrefix: mustMessage(data.Lang, "error_prefix")}
	if len(kv)%2 != 0 {
		return f, fmt.Errorf("field %s: options must be key/value pairs", name)
	}
	for i := 0; i < len(kv); i += 2 {
		switch v := kv[i+1]; kv[i] {
		case "hint":
			if f.Hint, err = message(data.Lang, v); err != nil {
				return f, err
			}
		case "autocomplete":
			f.Autocomplete = v
		case "inputmode":
			f.InputMode = v
		case "class":
			f.Class = v
		case "type":
			f.Type = v
		case "secret":
			f.Secret = v == "true"
		case "nospellcheck":
			f.NoSpellcheck = v == "true"
		default:
			return f, fmt.Errorf("field %s: unknown option %q", name, kv[i])
		}
	}
	if !f.Secret {
		f.Value = data.Form.Get(name)
	}
	return f, nil
}

// pageService is the template function service: the service named on any page's data.
func pageService(data any) string {
	if d, ok := data.(payPage); ok {
		return d.ServiceName
	}
	return ""
}

// pageCountry is the template function country: a country's name in the page's language, or
// its code when it is not one of those offered.
func pageCountry(data payPage, code string) string {
	if name := countryName(data.Lang, code); name != "" {
		return name
	}
	return code
}
