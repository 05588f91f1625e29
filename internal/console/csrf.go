package console

import (
	"crypto/subtle"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
)

// maxForm caps a form body; the largest form (program settings with its
// terms) is a few kilobytes.
const maxForm = 64 << 10

// parseForm reads the posted form once, capped at maxForm; a multipart
// form (an image upload) may carry a file of maxUpload besides.
func parseForm(c *gin.Context) bool {
	if c.ContentType() == "multipart/form-data" {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxUpload+maxForm)
		return c.Request.ParseMultipartForm(maxUpload+maxForm) == nil
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxForm)
	return c.Request.ParseForm() == nil
}

// checkCSRF accepts a form post only if it carries the expected token in
// its "csrf" field (compared in constant time) and does not come from
// another site. SameSite=Strict already keeps the session cookie off
// cross-site posts; the token holds even where a browser does not.
func (con *Console) checkCSRF(c *gin.Context, want string) bool {
	if !sameOrigin(c.Request) || !parseForm(c) {
		return false
	}
	got := c.Request.PostForm.Get("csrf")
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// sameOrigin refuses requests a browser marks as cross-site, and those
// whose Origin names another host than the one asked.
func sameOrigin(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return o == "" // "null": a sandboxed or privacy-redirected post
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}
