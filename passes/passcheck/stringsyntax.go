package passcheck

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// stringsParser reads the old-style property list syntax of .strings files.
type stringsParser struct {
	s   string
	pos int
}

func (p *stringsParser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

// errorf prefixes an error with the line it was found on.
func (p *stringsParser) errorf(format string, args ...any) error {
	line := 1 + strings.Count(p.s[:min(p.pos, len(p.s))], "\n")
	return fmt.Errorf("syntax error on line %d: %s", line, fmt.Sprintf(format, args...))
}

// skipSpace skips white space and comments.
func (p *stringsParser) skipSpace() error {
	for p.pos < len(p.s) {
		rest := p.s[p.pos:]
		switch {
		case strings.HasPrefix(rest, "//"):
			if i := strings.IndexByte(rest, '\n'); i >= 0 {
				p.pos += i + 1
			} else {
				p.pos = len(p.s)
			}
		case strings.HasPrefix(rest, "/*"):
			i := strings.Index(rest[2:], "*/")
			if i < 0 {
				return p.errorf("unterminated /* comment")
			}
			p.pos += 2 + i + 2
		default:
			r, size := utf8.DecodeRuneInString(rest)
			if !unicode.IsSpace(r) {
				return nil
			}
			p.pos += size
		}
	}
	return nil
}

// token reads a quoted string (with its escapes resolved) or an unquoted
// word.
func (p *stringsParser) token() (string, error) {
	if p.peek() != '"' {
		start := p.pos
		for p.pos < len(p.s) && isWordByte(p.s[p.pos]) {
			p.pos++
		}
		if p.pos == start {
			if p.pos >= len(p.s) {
				return "", p.errorf("unexpected end of file; expected a quoted string")
			}
			r, _ := utf8.DecodeRuneInString(p.s[p.pos:])
			return "", p.errorf("expected a quoted string, found %q", r)
		}
		return p.s[start:p.pos], nil
	}
	p.pos++
	var b strings.Builder
	for p.pos < len(p.s) {
		ch := p.s[p.pos]
		p.pos++
		switch ch {
		case '"':
			return b.String(), nil
		case '\\':
			if p.pos >= len(p.s) {
				return "", p.errorf("unterminated string")
			}
			p.escape(&b)
		default:
			b.WriteByte(ch)
		}
	}
	return "", p.errorf("unterminated string")
}

// simpleEscapes maps the letter after a backslash to the byte it stands for.
var simpleEscapes = map[byte]byte{'n': '\n', 't': '\t', 'r': '\r', 'a': '\a', 'b': '\b', 'f': '\f', 'v': '\v'}

// escape resolves the escape sequence after a backslash.
func (p *stringsParser) escape(b *strings.Builder) {
	esc := p.s[p.pos]
	p.pos++
	switch {
	case simpleEscapes[esc] != 0:
		b.WriteByte(simpleEscapes[esc])
	case esc == 'U' || esc == 'u':
		r, n := 0, 0
		for n < 4 && p.pos < len(p.s) && isHex(p.s[p.pos]) {
			r = r<<4 | hexValue(p.s[p.pos])
			p.pos++
			n++
		}
		if n == 0 {
			b.WriteByte(esc)
			return
		}
		b.WriteRune(rune(r))
	case esc >= '0' && esc <= '7':
		r := int(esc - '0')
		for n := 1; n < 3 && p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '7'; n++ {
			r = r<<3 | int(p.s[p.pos]-'0')
			p.pos++
		}
		b.WriteRune(rune(r))
	default:
		b.WriteByte(esc) // \" \\ \' and unknown escapes stand for themselves
	}
}

// isWordByte reports whether ch may appear in an unquoted .strings token.
func isWordByte(ch byte) bool {
	return ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' ||
		strings.IndexByte("_$+/:.-", ch) >= 0
}

func isHex(ch byte) bool {
	return ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'f' || ch >= 'A' && ch <= 'F'
}

func hexValue(ch byte) int {
	switch {
	case ch >= 'a':
		return int(ch-'a') + 10
	case ch >= 'A':
		return int(ch-'A') + 10
	}
	return int(ch - '0')
}
