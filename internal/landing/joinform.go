package landing

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/locale"
)

// joinForm is the join form as posted: the fields the customer fills in
// (phone, name, birthday, consent_personal_data, consent_ads), the
// referral code and consent text version the page carried, and the
// honeypot ("website") that people never see.
type joinForm struct {
	Phone, Name, Birthday string
	PersonalData, Ads     bool
	Ref, PDVersion        string
	Honeypot              string
}

// Limits of the form's fields.
const (
	maxNameLen  = 100
	maxPhoneLen = 32
)

func parseJoinForm(c *gin.Context) joinForm {
	field := func(name string, max int) string {
		v := strings.TrimSpace(c.PostForm(name))
		if len(v) > max*4 {
			v = v[:max*4]
		}
		return strings.ToValidUTF8(v, "")
	}
	return joinForm{
		Phone:        field("phone", maxPhoneLen),
		Name:         field("name", maxNameLen+1),
		Birthday:     field("birthday", 10),
		PersonalData: c.PostForm("consent_personal_data") != "",
		Ads:          c.PostForm("consent_ads") != "",
		Ref:          field("ref", maxTokenLen),
		PDVersion:    field("pd_version", 64),
		Honeypot:     field("website", 100),
	}
}

// validate checks the form against the page it came from (pdVersion is
// the version of the consent text the page shows now) and returns a
// message per wrong field; it normalises the birthday to YYYY-MM-DD.
func (f *joinForm) validate(lang *locale.Lang, pdVersion string) map[string]string {
	errs := map[string]string{}
	switch {
	case f.Phone == "":
		errs["phone"] = lang.Text("join_err_phone_required")
	case len(f.Phone) > maxPhoneLen || strings.Trim(f.Phone, "+0123456789 ()-.") != "":
		errs["phone"] = lang.Text("join_err_phone_invalid")
	}
	if utf8.RuneCountInString(f.Name) > maxNameLen || strings.ContainsAny(f.Name, "\x00\r\n\t") {
		errs["name"] = lang.Text("join_err_name")
	}
	if f.Birthday != "" {
		if d, ok := parseBirthday(f.Birthday); ok {
			f.Birthday = d
		} else {
			errs["birthday"] = lang.Text("join_err_birthday")
		}
	}
	switch {
	case !f.PersonalData:
		errs["consent_personal_data"] = lang.Text("join_err_consent")
	case f.PDVersion != "" && f.PDVersion != pdVersion:
		// The merchant changed the text since the page was shown: what
		// the customer agreed to is not what would be recorded.
		f.PersonalData = false
		errs["consent_personal_data"] = lang.Text("join_err_terms_changed")
	}
	return errs
}

// parseBirthday accepts a date input's YYYY-MM-DD, or DD.MM.YYYY as
// people type it, of a day between 1900 and today.
func parseBirthday(s string) (string, bool) {
	for _, layout := range []string{time.DateOnly, "02.01.2006"} {
		d, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		if d.Year() < 1900 || d.After(time.Now()) {
			return "", false
		}
		return d.Format(time.DateOnly), true
	}
	return "", false
}
