package passcheck

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// checkLocalizations checks the localization half of PKG-04: every
// pass.strings parses, and all .lproj folders carry the same keys and the
// same images.
func (c *checker) checkLocalizations() {
	type lproj struct {
		keys   map[string]bool // nil: no parsable pass.strings
		images map[string]bool
	}
	dirs := c.lprojDirs()
	lprojs := make(map[string]*lproj, len(dirs))
	for _, dir := range dirs {
		lprojs[dir] = &lproj{images: make(map[string]bool)}
	}
	broken := make(map[string]bool) // folders whose pass.strings did not parse
	for _, name := range c.order {
		dir, file, ok := splitLproj(name)
		if !ok || isJunk(name) {
			continue
		}
		lp := lprojs[dir]
		switch {
		case file == "pass.strings":
			keys, dups, err := parseStrings(c.files[name])
			if err != nil {
				c.problem("PKG-04", name, "%s: %v", name, err)
				broken[dir] = true
				continue
			}
			lp.keys = keys
			if len(dups) > 0 {
				c.note("%s defines %s more than once; the last definition wins", name, listSome(dups))
			}
		case strings.HasSuffix(strings.ToLower(file), ".png"):
			lp.images[file] = true
		}
	}
	if len(dirs) < 2 {
		return
	}
	allKeys, allImages := make(map[string]bool), make(map[string]bool)
	anyStrings := false
	for _, lp := range lprojs {
		for k := range lp.keys {
			allKeys[k] = true
		}
		for img := range lp.images {
			allImages[img] = true
		}
		anyStrings = anyStrings || lp.keys != nil
	}
	for _, dir := range dirs {
		lp := lprojs[dir]
		switch {
		case broken[dir]:
		case anyStrings && lp.keys == nil:
			c.problem("PKG-04", dir, "%s has no pass.strings, but other .lproj folders do", dir)
		default:
			if missing := missingFrom(allKeys, lp.keys); len(missing) > 0 {
				c.problem("PKG-04", dir+"/pass.strings", "%s/pass.strings lacks keys other .lproj folders define: %s", dir, listSome(missing))
			}
		}
		if missing := missingFrom(allImages, lp.images); len(missing) > 0 {
			c.problem("PKG-04", dir, "%s lacks images other .lproj folders have: %s", dir, listSome(missing))
		}
	}
}

// missingFrom lists, sorted, the members of all that have is lacking.
func missingFrom(all, have map[string]bool) []string {
	var missing []string
	for _, k := range sortedKeys(all) {
		if !have[k] {
			missing = append(missing, k)
		}
	}
	return missing
}

// listSome joins up to five names and says how many more there are.
func listSome(names []string) string {
	const show = 5
	if len(names) <= show {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:show], ", "), len(names)-show)
}

// decodeStrings turns a .strings file into text. Apple's tools accept UTF-8
// (with or without a byte-order mark) and UTF-16 with a byte-order mark.
func decodeStrings(data []byte) (string, error) {
	switch {
	case bytes.HasPrefix(data, utf8BOM):
		data = data[len(utf8BOM):]
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		body := data[2:]
		if len(body)%2 != 0 {
			return "", errors.New("UTF-16 text has an odd number of bytes")
		}
		units := make([]uint16, len(body)/2)
		for i := range units {
			hi, lo := body[2*i], body[2*i+1]
			if data[0] == 0xFF { // little-endian
				hi, lo = lo, hi
			}
			units[i] = uint16(hi)<<8 | uint16(lo)
		}
		return string(utf16.Decode(units)), nil
	}
	if !utf8.Valid(data) {
		return "", errors.New("not valid UTF-8, and no UTF-16 byte-order mark")
	}
	return string(data), nil
}

// parseStrings parses a .strings file: `"key" = "value";` entries with
// /* */ and // comments. It returns the keys and those defined twice.
func parseStrings(data []byte) (keys map[string]bool, dups []string, err error) {
	text, err := decodeStrings(data)
	if err != nil {
		return nil, nil, err
	}
	p := &stringsParser{s: text}
	keys = make(map[string]bool)
	for {
		if err := p.skipSpace(); err != nil {
			return nil, nil, err
		}
		if p.pos >= len(p.s) {
			return keys, dups, nil
		}
		key, err := p.token()
		if err != nil {
			return nil, nil, err
		}
		if err := p.skipSpace(); err != nil {
			return nil, nil, err
		}
		if p.peek() == '=' {
			p.pos++
			if err := p.skipSpace(); err != nil {
				return nil, nil, err
			}
			if _, err := p.token(); err != nil {
				return nil, nil, err
			}
			if err := p.skipSpace(); err != nil {
				return nil, nil, err
			}
		}
		if p.peek() != ';' {
			return nil, nil, p.errorf("expected ';' after the entry for %q", key)
		}
		p.pos++
		if keys[key] {
			dups = append(dups, key)
		}
		keys[key] = true
	}
}
