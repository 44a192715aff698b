package content

import (
	"regexp"
	"sort"
	"strings"
)

// placeholderPattern finds ((name)) and ((name??conditional text)). Names cannot contain
// parentheses, which is what lets a template use ordinary brackets around placeholders.
var placeholderPattern = regexp.MustCompile(`\(\(([^()]+)\)\)`)

// conditionalMarker separates a placeholder's name from the text it shows when its value
// says yes.
const conditionalMarker = "??"

// truthy lists the values that switch a conditional placeholder on, compared
// case-insensitively. Everything else, including "no" and "", hides the text.
var truthy = map[string]bool{
	"yes": true, "y": true, "true": true, "t": true, "1": true, "include": true, "show": true,
}

// placeholder is one ((…)) occurrence split into its parts.
type placeholder struct {
	name        string
	conditional bool
	text        string
}

func parsePlaceholder(body string) placeholder {
	name, text, found := strings.Cut(body, conditionalMarker)
	return placeholder{name: name, conditional: found, text: text}
}

// NormaliseKey is the form two placeholder names are compared in: lower case, with
// spaces, underscores and hyphens removed, so "First name", "first_name" and "FIRSTNAME"
// are the same placeholder. Exported so that every caller compares keys the same way.
func NormaliseKey(name string) string {
	if strings.ContainsAny(name, " _-") {
		name = strings.Map(func(r rune) rune {
			if r == ' ' || r == '_' || r == '-' {
				return -1
			}
			return r
		}, name)
	}
	return strings.ToLower(name)
}

// Placeholders lists the placeholder names in text in the order they first appear. Names
// that differ only in case, spaces, underscores or hyphens are listed once, spelled as
// they first appear, because they are filled from the same personalisation value.
func Placeholders(text string) []string {
	if !strings.Contains(text, "((") {
		return nil
	}
	var names []string
	seen := map[string]bool{}
	for _, m := range placeholderPattern.FindAllStringSubmatch(text, -1) {
		name := parsePlaceholder(m[1]).name
		key := NormaliseKey(name)
		if !seen[key] {
			seen[key] = true
			names = append(names, name)
		}
	}
	return names
}

// Missing lists the placeholders of all the template's parts (for an email: subject, then
// body) that personalisation does not supply. A key that is absent or holds JSON null is
// missing; an empty string is a supplied value.
func Missing(templateParts []string, personalisation map[string]any) []string {
	vals := newValues(personalisation)
	var missing []string
	seen := map[string]bool{}
	for _, part := range templateParts {
		for _, name := range Placeholders(part) {
			key := NormaliseKey(name)
			if seen[key] {
				continue
			}
			seen[key] = true
			if v, ok := vals.get(name); !ok || v == nil {
				missing = append(missing, name)
			}
		}
	}
	return missing
}

// MissingMessage is the API's error text for the names Missing returned, or "" when none
// are missing.
func MissingMessage(missing []string) string {
	if len(missing) == 0 {
		return ""
	}
	return "Missing personalisation: " + strings.Join(missing, ", ")
}

// Fill replaces each placeholder in text with its personalisation value, formatted for
// the channel. Placeholders without a value stay as written, so a preview still shows
// where they are. The result is raw text: HTML escaping happens when it is rendered.
func Fill(text string, personalisation map[string]any, ch Channel) string {
	return newValues(personalisation).fill(text, ch != SMS)
}

// values is personalisation indexed by normalised key, built once per message.
type values struct {
	byKey map[string]any
}

// newValues indexes personalisation. Where two keys normalise alike, the one spelled
// exactly like its normalised form wins, then the alphabetically first, so the choice is
// the same on every run whatever order the map iterates in.
func newValues(personalisation map[string]any) values {
	v := values{byKey: make(map[string]any, len(personalisation))}
	keys := make([]string, 0, len(personalisation))
	for k := range personalisation {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	chosen := map[string]string{}
	for _, k := range keys {
		nk := NormaliseKey(k)
		prev, taken := chosen[nk]
		if taken && (prev == nk || k != nk) {
			continue
		}
		chosen[nk] = k
		v.byKey[nk] = personalisation[k]
	}
	return v
}

func (v values) get(name string) (any, bool) {
	val, ok := v.byKey[NormaliseKey(name)]
	return val, ok
}

// replacement is the text a value contributes, or ok=false when it is missing.
func (v values) replacement(name string, markdownLists bool) (string, bool) {
	val, ok := v.get(name)
	if !ok || val == nil {
		return "", false
	}
	return formatValue(val, markdownLists), true
}

// fill substitutes every placeholder; markdownLists chooses bullets over "a, b and c".
func (v values) fill(text string, markdownLists bool) string {
	if !strings.Contains(text, "((") {
		return text
	}
	return placeholderPattern.ReplaceAllStringFunc(text, func(match string) string {
		p := parsePlaceholder(match[2 : len(match)-2])
		repl, ok := v.replacement(p.name, markdownLists)
		if !ok {
			return match
		}
		if p.conditional {
			if repl != "" && truthy[strings.ToLower(repl)] {
				return p.text
			}
			return ""
		}
		return repl
	})
}

// addressKeys are the personalisation keys a letter's address is read from. They are
// validated as an address rather than counted as template placeholders.
var addressKeys = map[string]bool{
	"addressline1": true, "addressline2": true, "addressline3": true, "addressline4": true,
	"addressline5": true, "addressline6": true, "addressline7": true, "postcode": true,
}

// IsAddressPlaceholder reports whether name is one of a letter's address placeholders,
// which the missing-personalisation check leaves to address validation.
func IsAddressPlaceholder(name string) bool {
	return addressKeys[NormaliseKey(name)]
}
