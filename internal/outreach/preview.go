package outreach

import (
	"strings"

	"github.com/loyalpass/loyalpass/internal/sms"
)

// PreviewName is the name a preview fills {name} with.
const PreviewName = "Анна"

// Preview is a campaign text as a sample customer gets it, with the
// segments it takes: the link is as long as a real one (shortURL + /c/ +
// a 12-character token), so the count is what the merchant pays. The
// API's campaign preview and the console's live preview both come from
// here.
func Preview(template string, bonus int64, shortURL string) (string, sms.Segments) {
	text := Render(template, PreviewName, bonus, strings.TrimRight(shortURL, "/")+"/c/"+strings.Repeat("x", 12))
	return text, sms.Count(text)
}
