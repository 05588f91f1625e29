package assets

import "embed"

// Console holds the merchant console (internal/console): its html/template
// pages under "console/", its style sheet and scripts under
// "console/static/", and the vendored QR decoder under
// "console/vendor/jsqr/" (jsQR, Apache-2.0; see its LICENSE and VERSION).
//
//go:embed console/*.html console/static console/vendor
var Console embed.FS
