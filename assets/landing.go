package assets

import "embed"

// Landing holds the html/template files of the customer landing page
// (internal/landing) under "landing/", for example "landing/layout.html".
//
//go:embed landing/*.html
var Landing embed.FS
