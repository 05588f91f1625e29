// Package assets holds the files loyalpass ships inside its binary: the
// default Apple Wallet images of a store card (icon, logo and strip at
// @1x, @2x and @3x), drawn by gen/main.go; the landing page templates
// (Landing); and the message files of each language (Locales).
package assets

import (
	"embed"
	"io/fs"
	"path"
)

//go:generate go run gen/main.go -out images

// FS holds the embedded files under their paths in this directory, for
// example "images/icon@2x.png".
//
//go:embed images/*.png
var FS embed.FS

// DefaultImage returns the default pass image with the given package file
// name ("icon.png", "logo@2x.png", "strip@3x.png", …) and whether there is
// one. Each call returns a fresh copy the caller may keep.
func DefaultImage(name string) ([]byte, bool) {
	if name == "" || path.Base(name) != name {
		return nil, false
	}
	data, err := fs.ReadFile(FS, "images/"+name)
	if err != nil {
		return nil, false
	}
	return data, true
}
