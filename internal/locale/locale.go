// Package locale is loyalpass's one text catalogue: every fixed text the
// Apple pass (its pass.strings), the Google Wallet objects, the landing
// page and the SMS side show, in every language we ship, with one plural
// rule per language and the number and date formats of each.
//
// A language is one JSON file, <tag>.json, in the catalogue's file system
// (assets/locales for the shipped one). The list of languages is the list
// of files: adding a file adds a language to every pass, card and page,
// without a code change. English must be there; a key a language lacks is
// shown in English.
package locale

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/loyalpass/loyalpass/assets"
)

// Fallback is the language a missing key or an unknown language falls
// back to. Its file must exist and define every key.
const Fallback = "en"

// Catalogue holds the languages of one set of message files. It is
// immutable once loaded and safe for concurrent use.
type Catalogue struct {
	langs map[string]*Lang
	tags  []string // sorted
}

// Lang is one language of a catalogue.
type Lang struct {
	tag      string
	name     string
	plural   pluralRule
	decimal  string // decimal separator
	group    string // thousands separator
	date     string // time.Format layout of a calendar date
	msgs     map[string]message
	fallback *Lang // nil for the fallback language itself
}

// message is a plain text, or a text with one form per plural category.
type message struct {
	text  string
	forms map[string]string // nil for a plain text
}

func (m *message) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &m.text); err == nil {
		return nil
	}
	if err := json.Unmarshal(b, &m.forms); err != nil {
		return errors.New("a message is a string or an object of plural forms")
	}
	if len(m.forms) == 0 {
		return errors.New("a plural message needs its forms")
	}
	return nil
}

// file is the layout of a message file.
type file struct {
	Name     string             `json:"name"`
	Plural   string             `json:"plural"`
	Decimal  string             `json:"decimal"`
	Group    string             `json:"group"`
	Date     string             `json:"date"`
	Messages map[string]message `json:"messages"`
}

// Load reads every *.json file at the root of fsys as the language its
// name says ("ru.json" is "ru"). A file must name a known plural rule and
// give every plural message each form that rule uses.
func Load(fsys fs.FS) (*Catalogue, error) {
	names, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, fmt.Errorf("list message files: %w", err)
	}
	c := &Catalogue{langs: make(map[string]*Lang, len(names))}
	for _, name := range names {
		tag := strings.TrimSuffix(path.Base(name), ".json")
		if !validTag(tag) {
			return nil, fmt.Errorf("message file %s: %q is not a lower-case language tag", name, tag)
		}
		l, err := loadLang(fsys, name, tag)
		if err != nil {
			return nil, err
		}
		c.langs[tag] = l
		c.tags = append(c.tags, tag)
	}
	en, ok := c.langs[Fallback]
	if !ok {
		return nil, fmt.Errorf("message files: %s.json, the fallback language, is missing", Fallback)
	}
	for _, l := range c.langs {
		if l != en {
			l.fallback = en
		}
	}
	sort.Strings(c.tags)
	return c, nil
}

func loadLang(fsys fs.FS, name, tag string) (*Lang, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("read message file: %w", err)
	}
	var f file
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("message file %s: %w", name, err)
	}
	rule, ok := pluralRules[f.Plural]
	if !ok {
		return nil, fmt.Errorf("message file %s: plural rule %q is not one of %s", name, f.Plural, strings.Join(ruleNames(), ", "))
	}
	if f.Decimal == "" || f.Date == "" {
		return nil, fmt.Errorf("message file %s: decimal and date are required", name)
	}
	for key, m := range f.Messages {
		if m.forms == nil {
			continue
		}
		for _, cat := range rule.categories {
			if m.forms[cat] == "" {
				return nil, fmt.Errorf("message file %s: %q lacks the %q form its plural rule %s needs", name, key, cat, f.Plural)
			}
		}
	}
	return &Lang{tag: tag, name: f.Name, plural: rule, decimal: f.Decimal, group: f.Group, date: f.Date, msgs: f.Messages}, nil
}

// validTag accepts "ru", "en", "pt-br": lower-case letters, digits and
// hyphens, as an .lproj folder and a Google language code can carry.
func validTag(tag string) bool {
	if tag == "" || tag[0] == '-' {
		return false
	}
	for _, r := range tag {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

var shipped = sync.OnceValues(func() (*Catalogue, error) {
	sub, err := fs.Sub(assets.Locales, "locales")
	if err != nil {
		return nil, err
	}
	return Load(sub)
})

// Shipped returns the catalogue embedded in the binary (assets/locales).
// It panics if those files do not load, which the package tests rule out.
func Shipped() *Catalogue {
	c, err := shipped()
	if err != nil {
		panic("locale: embedded message files: " + err.Error())
	}
	return c
}

// Tags lists the catalogue's languages, sorted.
func (c *Catalogue) Tags() []string { return slices.Clone(c.tags) }

// Has reports whether tag is one of the catalogue's languages.
func (c *Catalogue) Has(tag string) bool { _, ok := c.langs[tag]; return ok }

// Lang returns language tag, or the fallback language for a tag the
// catalogue does not have.
func (c *Catalogue) Lang(tag string) *Lang {
	if l, ok := c.langs[tag]; ok {
		return l
	}
	return c.langs[Fallback]
}

// Tag is the language's tag, its file name without ".json".
func (l *Lang) Tag() string { return l.tag }

// Name is the language's own name for itself ("Русский").
func (l *Lang) Name() string { return l.name }

// lookup finds key here or in the fallback language.
func (l *Lang) lookup(key string) (message, bool) {
	for x := l; x != nil; x = x.fallback {
		if m, ok := x.msgs[key]; ok {
			return m, true
		}
	}
	return message{}, false
}

// Text returns the plain message key with its {placeholders} filled from
// vars, given as name, value pairs: Text("optout_body", "org", "Кофейня").
// A key no language defines comes back as the key itself, so a typo shows
// on the page instead of a blank.
func (l *Lang) Text(key string, vars ...string) string {
	m, ok := l.lookup(key)
	if !ok {
		return key
	}
	s := m.text
	if m.forms != nil {
		s = m.forms["other"]
		if s == "" {
			s = m.forms["many"]
		}
	}
	return fill(s, vars)
}

// Plural returns the form of message key that n takes in this language,
// with {n} and vars filled in. {n} is n written as Int writes it.
func (l *Lang) Plural(key string, n int64, vars ...string) string {
	m, ok := l.lookup(key)
	if !ok {
		return key
	}
	s := m.text
	if m.forms != nil {
		// A message that came from the fallback language has its forms.
		rule := l.plural
		if _, own := l.msgs[key]; !own && l.fallback != nil {
			rule = l.fallback.plural
		}
		s = m.forms[rule.category(n)]
	}
	return fill(s, append([]string{"n", l.Int(n)}, vars...))
}

// Texts returns every plain message of the language, English filling the
// gaps, keyed for templates ({{.T.balance}}). The map is a fresh copy.
func (l *Lang) Texts() map[string]string {
	out := make(map[string]string, len(l.msgs))
	for x := l; x != nil; x = x.fallback {
		for k, m := range x.msgs {
			if _, done := out[k]; !done && m.forms == nil {
				out[k] = m.text
			}
		}
	}
	return out
}

// Keys lists the keys the language's own file defines, sorted.
func (l *Lang) Keys() []string {
	keys := make([]string, 0, len(l.msgs))
	for k := range l.msgs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func fill(s string, vars []string) string {
	if len(vars) == 0 || !strings.Contains(s, "{") {
		return s
	}
	pairs := make([]string, 0, len(vars))
	for i := 0; i+1 < len(vars); i += 2 {
		pairs = append(pairs, "{"+vars[i]+"}", vars[i+1])
	}
	return strings.NewReplacer(pairs...).Replace(s)
}
