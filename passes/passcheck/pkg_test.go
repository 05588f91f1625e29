package passcheck

import (
	"strings"
	"testing"
	"unicode/utf16"
)

func TestPackageRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "PKG-01 signature missing", want: []string{"PKG-01"},
			break_: func(t *testing.T, b *build, o *Options) { b.sign = nil }},
		{name: "PKG-01 pass.json in a sub-folder", want: []string{"PKG-01"},
			break_: func(t *testing.T, b *build, o *Options) {
				b.files["card/pass.json"] = []byte(`{}`)
				b.pass = nil
			}},
		{name: "PKG-01 manifest.json renamed", want: []string{"PKG-01"},
			break_: func(t *testing.T, b *build, o *Options) {
				b.rename = map[string]string{manifestFile: "Manifest.json"}
			}},
		{name: "PKG-01 whole package inside a folder", want: []string{"PKG-01", "PKG-02", "PKG-03"},
			break_: func(t *testing.T, b *build, o *Options) {
				b.rename = map[string]string{}
				for name := range b.files {
					b.rename[name] = "Coffee.pass/" + name
				}
				for _, name := range []string{passFile, manifestFile, signatureFile} {
					b.rename[name] = "Coffee.pass/" + name
				}
			}},
		{name: "PKG-01 directory entries for lproj folders are fine", want: nil,
			break_: func(t *testing.T, b *build, o *Options) {
				b.extra = []entry{{"en.lproj/", nil}, {"ru.lproj/", nil}}
			}},
		{name: "PKG-02 icon.png missing", want: []string{"PKG-02"},
			break_: func(t *testing.T, b *build, o *Options) { delete(b.files, "icon.png") }},
		{name: "PKG-02 icon@2x.png missing", want: []string{"PKG-02"},
			break_: func(t *testing.T, b *build, o *Options) { delete(b.files, "icon@2x.png") }},
		{name: "PKG-02 icon.png not a PNG", want: []string{"PKG-02"},
			break_: func(t *testing.T, b *build, o *Options) { b.files["icon.png"] = []byte("GIF89a") }},
		{name: "PKG-02 icons only in lproj folders is fine", want: nil,
			break_: func(t *testing.T, b *build, o *Options) {
				for _, icon := range []string{"icon.png", "icon@2x.png"} {
					b.files["en.lproj/"+icon] = b.files[icon]
					b.files["ru.lproj/"+icon] = b.files[icon]
					delete(b.files, icon)
				}
			}},
		{name: "PKG-03 wrong SHA-1 in manifest", want: []string{"PKG-03"},
			break_: func(t *testing.T, b *build, o *Options) {
				b.editManifest = func(m map[string]any) { m["strip.png"] = strings.Repeat("0", 40) }
			}},
		{name: "PKG-03 uppercase SHA-1", want: []string{"PKG-03"},
			break_: func(t *testing.T, b *build, o *Options) {
				b.editManifest = func(m map[string]any) { m["strip.png"] = strings.ToUpper(m["strip.png"].(string)) }
			}},
		{name: "PKG-03 file not in manifest", want: []string{"PKG-03"},
			break_: func(t *testing.T, b *build, o *Options) {
				b.extra = []entry{{"thumbnail.png", pngImage(t, 4)}}
			}},
		{name: "PKG-03 manifest lists a missing file", want: []string{"PKG-03"},
			break_: func(t *testing.T, b *build, o *Options) {
				b.editManifest = func(m map[string]any) { m["background.png"] = strings.Repeat("a", 40) }
			}},
		{name: "PKG-03 manifest lists signature", want: []string{"PKG-03"},
			break_: func(t *testing.T, b *build, o *Options) {
				b.editManifest = func(m map[string]any) { m[signatureFile] = strings.Repeat("a", 40) }
			}},
		{name: "PKG-03 .DS_Store", want: []string{"PKG-03"},
			break_: func(t *testing.T, b *build, o *Options) { b.files[".DS_Store"] = []byte{0, 0, 0, 1} }},
		{name: "PKG-03 __MACOSX", want: []string{"PKG-03"},
			break_: func(t *testing.T, b *build, o *Options) {
				b.extra = []entry{{"__MACOSX/", nil}, {"__MACOSX/._icon.png", []byte{0, 5, 22, 7}}}
			}},
		{name: "PKG-03 backslash separator", want: []string{"PKG-03"},
			break_: func(t *testing.T, b *build, o *Options) { b.files[`images\footer.png`] = pngImage(t, 3) }},
		{name: "PKG-03 folder that is not an lproj", want: []string{"PKG-03"},
			break_: func(t *testing.T, b *build, o *Options) { b.files["images/footer.png"] = pngImage(t, 3) }},
		{name: "PKG-03 duplicate entry", want: []string{"PKG-03"},
			break_: func(t *testing.T, b *build, o *Options) {
				b.extra = []entry{{"strip.png", pngImage(t, 10)}}
			}},
		{name: "PKG-04 pass.json not JSON", want: []string{"PKG-04"},
			break_: func(t *testing.T, b *build, o *Options) { b.files[passFile] = []byte(`{"formatVersion": 1,}`) }},
		{name: "PKG-04 pass.json not UTF-8", want: []string{"PKG-04"},
			break_: func(t *testing.T, b *build, o *Options) {
				b.files[passFile] = []byte("{\"description\": \"caf\xe9\"}")
			}},
		{name: "PKG-04 pass.json with BOM", want: []string{"PKG-04"},
			break_: func(t *testing.T, b *build, o *Options) {
				b.files[passFile] = append([]byte{0xEF, 0xBB, 0xBF}, jsonBytes(t, b.pass)...)
			}},
		{name: "PKG-04 pass.json is an array", want: []string{"PKG-04"},
			break_: func(t *testing.T, b *build, o *Options) { b.files[passFile] = []byte(`[1]`) }},
		{name: "PKG-04 manifest.json not JSON", want: []string{"PKG-04"},
			break_: func(t *testing.T, b *build, o *Options) { b.manifest = []byte(`{"pass.json": `) }},
		{name: "PKG-04 manifest value not a string", want: []string{"PKG-04"},
			break_: func(t *testing.T, b *build, o *Options) {
				b.editManifest = func(m map[string]any) { m["strip.png"] = 1 }
			}},
		{name: "PKG-04 personalization.json not JSON", want: []string{"PKG-04"},
			break_: func(t *testing.T, b *build, o *Options) {
				addPersonalization(t, b)
				b.files[personalizationFile] = []byte(`{description`)
			}},
		{name: "PKG-04 pass.strings missing semicolon", want: []string{"PKG-04"},
			break_: func(t *testing.T, b *build, o *Options) {
				b.files["en.lproj/pass.strings"] = []byte("\"POINTS\" = \"Points\"\n\"TIER\" = \"Tier\";\n")
			}},
		{name: "PKG-04 pass.strings unterminated comment", want: []string{"PKG-04"},
			break_: func(t *testing.T, b *build, o *Options) {
				b.files["en.lproj/pass.strings"] = []byte("\"POINTS\" = \"Points\";\n\"TIER\" = \"Tier\"; /* oops")
			}},
		{name: "PKG-04 pass.strings UTF-16 without BOM", want: []string{"PKG-04"},
			break_: func(t *testing.T, b *build, o *Options) {
				b.files["ru.lproj/pass.strings"] = utf16LE("\"POINTS\" = \"Баллы\";\n\"TIER\" = \"Уровень\";\n")[2:]
			}},
		{name: "PKG-04 lproj keys differ", want: []string{"PKG-04"},
			break_: func(t *testing.T, b *build, o *Options) {
				b.files["ru.lproj/pass.strings"] = utf16LE("\"POINTS\" = \"Баллы\";\n")
			}},
		{name: "PKG-04 lproj without pass.strings", want: []string{"PKG-04"},
			break_: func(t *testing.T, b *build, o *Options) { delete(b.files, "ru.lproj/pass.strings") }},
		{name: "PKG-04 lproj images differ", want: []string{"PKG-04"},
			break_: func(t *testing.T, b *build, o *Options) { b.files["en.lproj/logo@2x.png"] = pngImage(t, 32) }},
		{name: "PKG-04 strings in UTF-16BE and UTF-8 with BOM are fine", want: nil,
			break_: func(t *testing.T, b *build, o *Options) {
				b.files["ru.lproj/pass.strings"] = utf16BE("\"POINTS\" = \"Баллы\"; \"TIER\" = \"Уровень\";")
				b.files["en.lproj/pass.strings"] = []byte("\xEF\xBB\xBFPOINTS = \"Points\";\n\"TIER\" = \"T\\\"ier\\U00e9\";")
			}},
	})
}

func TestParseStrings(t *testing.T) {
	keys, dups, err := parseStrings([]byte("// c\n/* multi\nline */ \"a\" = \"1\"; b = \"x\\n\\\"y\\\"\";\n\"a\" = \"2\";\n\"c\";"))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 || !keys["a"] || !keys["b"] || !keys["c"] {
		t.Errorf("keys = %v", keys)
	}
	if len(dups) != 1 || dups[0] != "a" {
		t.Errorf("dups = %v", dups)
	}
	for _, bad := range []string{`"a" = "1"`, `"a" = ;`, `"a" "b";`, `"a = "b";`, `= "b";`, `"a" = "b"; }`} {
		if _, _, err := parseStrings([]byte(bad)); err == nil {
			t.Errorf("parseStrings(%q) accepted it", bad)
		}
	}
}

func utf16BE(s string) []byte {
	out := []byte{0xFE, 0xFF}
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u>>8), byte(u))
	}
	return out
}
