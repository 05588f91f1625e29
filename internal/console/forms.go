package console

import (
	"errors"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/locale"
)

// templateFuncs are the helpers the page templates use.
var templateFuncs = template.FuncMap{
	// field returns a form's error for one field, "" when there is none.
	"field": func(errs map[string]string, name string) string { return errs[name] },
}

// formErrors are a form's errors by field name, in the viewer's language.
type formErrors map[string]string

// fromAPI puts an API refusal next to the form field it names (fields
// maps the API's field names to the form's where they differ), or under
// "" for the form as a whole. The API's message is English; a known code
// reads in the viewer's language.
func (fe formErrors) fromAPI(err *apiError, lang *locale.Lang, fields map[string]string) {
	field := err.Field
	if f, ok := fields[field]; ok {
		field = f
	}
	msg := err.Message
	if key := "con_api_" + err.Code; lang.Text(key) != key {
		msg = lang.Text(key)
	}
	fe[field] = msg
}

// asAPIError returns err as an API refusal (a 4xx), if it is one.
func asAPIError(err error) (*apiError, bool) {
	var ae *apiError
	ok := errors.As(err, &ae)
	return ae, ok
}

// parseMoney reads an amount in major units as people write it ("1250",
// "1 250,50", "1250.5") into minor units (kopecks, cents).
func parseMoney(s string) (int64, bool) { return parseMinor(s, 2) }

// parseMinor is parseMoney for a currency whose minor unit has digits
// digits (0 for yen, 3 for dinars).
func parseMinor(s string, digits int) (int64, bool) {
	s = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", ",", ".").Replace(strings.TrimSpace(s))
	if s == "" || strings.Count(s, ".") > 1 {
		return 0, false
	}
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > digits || whole == "" && frac == "" {
		return 0, false
	}
	for _, part := range []string{whole, frac} {
		if strings.Trim(part, "0123456789") != "" {
			return 0, false
		}
	}
	scale := int64(1)
	for range digits {
		scale *= 10
	}
	frac += strings.Repeat("0", digits-len(frac))
	w, err := strconv.ParseInt("0"+whole, 10, 64)
	if err != nil || w > math.MaxInt64/scale-1 {
		return 0, false
	}
	f, _ := strconv.ParseInt("0"+frac, 10, 64)
	return w*scale + f, true
}

// parseInt reads a whole number, allowing a sign and spaces.
func parseInt(s string) (int64, bool) {
	s = strings.NewReplacer(" ", "", "\u00a0", "", "\u2212", "-").Replace(strings.TrimSpace(s))
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "+"), 10, 64)
	return n, err == nil
}

// when writes a time for a person: the date in the language's way and the
// time of day, UTC.
func when(lang *locale.Lang, t time.Time) string {
	return lang.Date(t) + " " + t.UTC().Format("15:04")
}

// postForm is the posted value of a form field, trimmed.
func postForm(c *gin.Context, name string) string {
	return strings.TrimSpace(c.Request.PostForm.Get(name))
}
