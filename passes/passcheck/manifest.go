package passcheck

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // the manifest format is SHA-1 by Apple's definition
	"encoding/hex"
	"encoding/json"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

// utf8BOM is the byte-order mark some editors put in front of UTF-8 text.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// checkManifest checks PKG-04 for manifest.json and the hashing half of
// PKG-03: every file except manifest.json and signature is listed with the
// lowercase SHA-1 of its exact bytes, and every entry names a file.
func (c *checker) checkManifest() {
	raw, ok := c.files[manifestFile]
	if !ok {
		return // PKG-01
	}
	obj, ok := c.decodeJSONObject(manifestFile, raw)
	if !ok {
		return
	}
	m := make(map[string]string, len(obj))
	for _, k := range sortedKeys(obj) {
		s, ok := obj[k].(string)
		if !ok {
			c.problem("PKG-04", manifestFile, "manifest.json: the value for %q is not a string", k)
			continue
		}
		m[k] = s
	}

	for _, name := range c.order {
		if name == manifestFile || name == signatureFile || isJunk(name) {
			continue
		}
		want, listed := m[name]
		if _, malformed := obj[name]; malformed && !listed {
			continue // PKG-04 above
		}
		if !listed {
			c.problem("PKG-03", name, "%s is in the archive but not listed in manifest.json", name)
			continue
		}
		sum := sha1.Sum(c.files[name]) //nolint:gosec // see import
		got := hex.EncodeToString(sum[:])
		switch {
		case want == got:
		case strings.ToLower(want) == got:
			c.problem("PKG-03", name, "manifest.json gives the SHA-1 of %s in uppercase hex; Wallet expects lowercase", name)
		default:
			c.problem("PKG-03", name, "manifest.json gives SHA-1 %q for %s, but the file's SHA-1 is %s", want, name, got)
		}
	}
	for _, k := range sortedKeys(m) {
		_, present := c.files[k]
		switch {
		case k == manifestFile || k == signatureFile:
			c.problem("PKG-03", manifestFile, "manifest.json must not list %s", k)
		case strings.Contains(k, `\`):
			c.problem("PKG-03", manifestFile, "manifest.json entry %q uses '\\'; paths must use '/'", k)
		case !present:
			c.problem("PKG-03", manifestFile, "manifest.json lists %s, which is not in the archive", k)
		}
	}
}

// parseJSONFiles checks PKG-04 for pass.json and personalization.json and
// keeps their decoded contents for the JSON rules.
func (c *checker) parseJSONFiles() {
	if raw, ok := c.files[passFile]; ok {
		if obj, ok := c.decodeJSONObject(passFile, raw); ok {
			c.pass = obj
		}
	}
	if raw, ok := c.files[personalizationFile]; ok {
		if obj, ok := c.decodeJSONObject(personalizationFile, raw); ok {
			c.personalization = obj
		}
	}
}

// decodeJSONObject decodes a package JSON file that must be one UTF-8 JSON
// object, reporting PKG-04 when it is not. Numbers stay json.Number, so a
// check can tell 1 from "1" and from 1.5.
func (c *checker) decodeJSONObject(file string, raw []byte) (map[string]any, bool) {
	switch {
	case bytes.HasPrefix(raw, utf8BOM):
		c.problem("PKG-04", file, "%s starts with a UTF-8 byte-order mark; write plain UTF-8 JSON", file)
		return nil, false
	case !utf8.Valid(raw):
		c.problem("PKG-04", file, "%s is not valid UTF-8", file)
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		c.problem("PKG-04", file, "%s is not valid JSON: %v", file, err)
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		c.problem("PKG-04", file, "%s has data after its JSON value", file)
		return nil, false
	}
	obj, ok := v.(map[string]any)
	if !ok {
		c.problem("PKG-04", file, "%s is not a JSON object", file)
		return nil, false
	}
	return obj, true
}

// sortedKeys returns m's keys in order, so reports do not depend on map
// iteration.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
