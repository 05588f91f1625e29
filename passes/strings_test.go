package passes

import (
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/locale"
	"github.com/loyalpass/loyalpass/internal/locale/localetest"
)

func TestStringsFileEscapes(t *testing.T) {
	cat := locale.Shipped()
	l := newLocalizer(cat, LocaleEN)
	trickyText := map[string]string{
		LocaleRU: "Кавычки \" и \\ слэш\nи строка\tтаб\x01",
		LocaleEN: "Quotes \" and \\ slash\nand line\ttab\x01",
	}
	tricky := func(l *locale.Lang) string { return trickyText[l.Tag()] }
	key := l.key(tricky)
	l.key(textBalance)
	if key != trickyText[LocaleEN] {
		t.Fatalf("key = %q, want the English text", key)
	}
	en := cat.Lang(LocaleEN)
	for _, tag := range cat.Tags() {
		got := parseStrings(t, l.stringsFile(tag))
		want := map[string]string{
			trickyText[LocaleEN]: trickyText[tag],
			textBalance(en):      textBalance(cat.Lang(tag)),
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s pass.strings round trip:\n got %q\nwant %q", tag, got, want)
		}
	}
}

// TestTextsHaveDistinctKeys guards the key scheme: a text's key is its
// wording in the program's language, so two texts that read the same in
// one language but differ in the other would overwrite each other.
func TestTextsHaveDistinctKeys(t *testing.T) {
	all := map[string]locale.Text{"balance": textBalance, "balance_change": textBalanceChange, "holder": textHolder,
		"tier": textTier, "message": textMessage, "card_number": textCardNumber, "terms": textTerms, "earn": textEarn,
		"expiring": textExpiring, "earn_rate": locale.EarnRateText(250),
		"expiring_text": locale.ExpiringText(5, time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC))}
	cat := localetest.Pseudo(t)
	for _, tag := range cat.Tags() {
		seen := map[string]string{}
		for name, tx := range all {
			k := tx(cat.Lang(tag))
			if prev, ok := seen[k]; ok && prev != name {
				t.Errorf("%s: %q stands for both %s and %s", tag, k, prev, name)
			}
			seen[k] = name
		}
	}
}

func TestFormatPercent(t *testing.T) {
	tests := []struct {
		bp   int
		tag  string
		want string
	}{
		{500, LocaleEN, "5"},
		{250, LocaleEN, "2.5"},
		{250, LocaleRU, "2,5"},
		{1, LocaleEN, "0.01"},
		{1005, LocaleEN, "10.05"},
		{10000, LocaleEN, "100"},
		{-150, LocaleEN, "-1.5"},
	}
	for _, tt := range tests {
		if got := locale.Shipped().Lang(tt.tag).Percent(tt.bp); got != tt.want {
			t.Errorf("Percent(%d) in %s = %q, want %q", tt.bp, tt.tag, got, tt.want)
		}
	}
}

func TestCSSRGB(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"", "", true},
		{"#000000", "rgb(0, 0, 0)", true},
		{"#FFffFF", "rgb(255, 255, 255)", true},
		{"#1f2937", "rgb(31, 41, 55)", true},
		{"1f2937", "", false},
		{"#fff", "", false},
		{"#+12345", "", false},
		{"#12345z", "", false},
	}
	for _, tt := range tests {
		got, err := cssRGB(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("cssRGB(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestRenderStrings(t *testing.T) {
	for _, locale := range []string{LocaleRU, LocaleEN} {
		t.Run(locale, func(t *testing.T) {
			p := testProgram()
			p.Locale = locale
			pkpass, err := newTestRenderer(t).Render(p, testCard())
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			files := unpack(t, pkpass)
			ru := parseStrings(t, files["ru.lproj/pass.strings"])
			en := parseStrings(t, files["en.lproj/pass.strings"])
			if !reflect.DeepEqual(sortedKeys(ru), sortedKeys(en)) {
				t.Fatalf("lproj key sets differ:\nru %v\nen %v", sortedKeys(ru), sortedKeys(en))
			}

			pass := decodePass(t, files)
			balance := passFieldsOf(t, pass, "primaryFields")["balance"]
			label, change := balance["label"].(string), balance["changeMessage"].(string)
			earn := passFieldsOf(t, pass, "backFields")["earn"]
			wantRU := map[string]string{label: "Баланс", change: "Баланс: %@", earn["value"].(string): "2,5% от суммы каждой покупки"}
			wantEN := map[string]string{label: "Balance", change: "Balance: %@", earn["value"].(string): "2.5% of every purchase"}
			for key, want := range wantRU {
				if ru[key] != want {
					t.Errorf("ru[%q] = %q, want %q", key, ru[key], want)
				}
				if ru[key] == "" || !strings.Contains(string(files["ru.lproj/pass.strings"]), want) {
					t.Errorf("ru.lproj/pass.strings lost the Cyrillic text %q", want)
				}
			}
			for key, want := range wantEN {
				if en[key] != want {
					t.Errorf("en[%q] = %q, want %q", key, en[key], want)
				}
			}
			// Keys read as the program's own language.
			own := ru
			if locale == LocaleEN {
				own = en
			}
			for key, value := range own {
				if key != value {
					t.Errorf("key %q is not its %s text %q", key, locale, value)
				}
			}
			// Every label on the pass other than merchant ones has a translation.
			for _, group := range []string{"primaryFields", "secondaryFields", "auxiliaryFields"} {
				for key, f := range passFieldsOf(t, pass, group) {
					if _, ok := en[f["label"].(string)]; !ok {
						t.Errorf("%s %s label %q is not in pass.strings", group, key, f["label"])
					}
				}
			}
		})
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
