package landing

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"
	"golang.org/x/net/html"
)

var _ Source = (*fakeSource)(nil)

// fakeSource is an in-memory Source that records what it was asked.
type fakeSource struct {
	mu      sync.Mutex
	pages   map[string]Page
	optOuts map[string]int
	paths   []string // r.URL.Path of every Page call
	err     error    // returned by Page and OptOut when set
}

func newFakeSource(pages ...Page) *fakeSource {
	s := &fakeSource{pages: map[string]Page{}, optOuts: map[string]int{}}
	for _, p := range pages {
		s.pages[p.Token] = p
	}
	return s
}

func (s *fakeSource) Page(ctx context.Context, token string, r *http.Request) (Page, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paths = append(s.paths, r.URL.Path)
	if s.err != nil {
		return Page{}, s.err
	}
	p, ok := s.pages[token]
	if !ok {
		return Page{}, fmt.Errorf("link %q: %w", token, ErrNotFound)
	}
	return p, nil
}

func (s *fakeSource) OptOut(ctx context.Context, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	p, ok := s.pages[token]
	if !ok {
		return fmt.Errorf("link %q: %w", token, ErrNotFound)
	}
	p.OptedOut = true
	s.pages[token] = p
	s.optOuts[token]++
	return nil
}

// put adds or replaces a page.
func (s *fakeSource) put(p Page) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages[p.Token] = p
}

func (s *fakeSource) optOutCount(token string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.optOuts[token]
}

func (s *fakeSource) pageCalls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.paths...)
}

const testToken = "Ab3xK9"

// testPage is a complete page: every button has something to link to.
func testPage() Page {
	return Page{
		Token:            testToken,
		ProgramName:      "Кофейные баллы",
		OrganizationName: "Кофейня «Зерно»",
		Locale:           "ru",
		BackgroundColor:  "#6b3e26",
		ForegroundColor:  "#ffffff",
		CardNumber:       "1000 2345",
		Balance:          1250,
		BonusPoints:      100,
		PassURL:          "https://cards.example.com/p/" + testToken + ".pkpass",
		GoogleSaveURL:    "https://pay.google.com/gp/v/save/eyJhbGciOiJSUzI1NiJ9.payload.sig",
		ShortURL:         "https://k.example.ru/c/" + testToken,
		OptOutURL:        "/c/" + testToken + "/optout",
	}
}

// newTestServer mounts a Handler over src on a gin engine and returns the
// engine and the buffer its log goes to.
func newTestServer(t *testing.T, src Source, opts ...Option) (http.Handler, *syncBuffer) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	logs := &syncBuffer{}
	r := gin.New()
	New(src, slog.New(slog.NewJSONHandler(logs, nil)), opts...).Register(r)
	return r, logs
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a server.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// request is one request for do.
type request struct {
	method, path string
	ua, lang     string
	header       map[string]string
	form         url.Values
}

func do(t *testing.T, h http.Handler, rq request) *httptest.ResponseRecorder {
	t.Helper()
	method := rq.method
	if method == "" {
		method = http.MethodGet
	}
	var body *strings.Reader
	if rq.form != nil {
		body = strings.NewReader(rq.form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, rq.path, body)
	if rq.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if rq.ua != "" {
		req.Header.Set("User-Agent", rq.ua)
	}
	if rq.lang != "" {
		req.Header.Set("Accept-Language", rq.lang)
	}
	for k, v := range rq.header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func parseHTML(t *testing.T, body string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse html: %v", err)
	}
	return doc
}

// find returns the first element for which match is true, or nil.
func find(n *html.Node, match func(*html.Node) bool) *html.Node {
	if n.Type == html.ElementNode && match(n) {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := find(c, match); f != nil {
			return f
		}
	}
	return nil
}

func byID(doc *html.Node, id string) *html.Node {
	return find(doc, func(n *html.Node) bool { return attr(n, "id") == id })
}

func byTag(doc *html.Node, tag string) *html.Node {
	return find(doc, func(n *html.Node) bool { return n.Data == tag })
}

func attr(n *html.Node, key string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}
