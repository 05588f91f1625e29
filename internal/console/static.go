package console

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/assets"
)

// staticFiles are the console's style sheet and scripts, served from
// memory under a URL that names their content hash, so they are cached
// for good and a new build is fetched at once.
type staticFiles struct {
	files map[string]staticFile // by name
	urls  map[string]string     // name → URL, for templates
}

type staticFile struct {
	hash, ctype string
	data, gz    []byte // gz is nil where compression does not pay
}

// staticRoots are the embedded folders served under /console/static.
var staticRoots = []string{"console/static", "console/vendor/jsqr"}

func mustLoadStatic() staticFiles {
	sf := staticFiles{files: map[string]staticFile{}, urls: map[string]string{}}
	for _, root := range staticRoots {
		entries, err := fs.ReadDir(assets.Console, root)
		if err != nil {
			panic("console: static files: " + err.Error())
		}
		for _, e := range entries {
			name := e.Name()
			ctype := mime.TypeByExtension(path.Ext(name))
			if e.IsDir() || ctype == "" {
				continue // LICENSE and notes stay in the binary, unserved
			}
			data, err := fs.ReadFile(assets.Console, root+"/"+name)
			if err != nil {
				panic("console: static files: " + err.Error())
			}
			sum := sha256.Sum256(data)
			f := staticFile{hash: hex.EncodeToString(sum[:6]), ctype: ctype, data: data}
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			zw.Write(data)
			zw.Close()
			if buf.Len() < len(data)*9/10 {
				f.gz = buf.Bytes()
			}
			sf.files[name] = f
			sf.urls[name] = "/console/static/" + f.hash + "/" + name
		}
	}
	return sf
}

// serveStatic serves a static file; only its current hash is accepted.
func (con *Console) serveStatic(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("name"), "/")
	f, ok := con.static.files[name]
	if !ok || c.Param("hash") != f.hash {
		c.String(http.StatusNotFound, "not found\n")
		return
	}
	h := c.Writer.Header()
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Vary", "Accept-Encoding")
	if f.gz != nil && strings.Contains(c.GetHeader("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		c.Data(http.StatusOK, f.ctype, f.gz)
		return
	}
	c.Data(http.StatusOK, f.ctype, f.data)
}
