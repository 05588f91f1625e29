package assets

import "embed"

// Locales holds the text catalogue, one JSON file per language named by
// its language tag ("locales/ru.json", "locales/en.json"); internal/locale
// reads it. Adding a file adds a language.
//
//go:embed locales/*.json
var Locales embed.FS
