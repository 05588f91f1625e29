// Package passkitgenerator holds the Node script `loyalpass bench` runs to
// time passkit-generator, the most used Node pass generator, building the
// same store card as loyalpass: bench.js with its package.json (an exact
// version pin) and package-lock.json. They are embedded so the binary can
// install and run them anywhere; node_modules is never committed.
package passkitgenerator

import "embed"

// FS holds bench.js, package.json and package-lock.json.
//
//go:embed bench.js package.json package-lock.json
var FS embed.FS
