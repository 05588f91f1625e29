package passcheck

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"image/png"
	"io"
	"path"
	"sort"
	"strings"
)

// Limits on what Check decompresses, so a ZIP bomb cannot exhaust memory.
// Real passes are far smaller: a few hundred kilobytes of images.
const (
	maxEntrySize = 32 << 20
	maxTotalSize = 128 << 20
)

// readArchive unzips pkpass into c.files. It reports false, with a PKG-01
// problem, when the bytes are not a ZIP archive at all.
func (c *checker) readArchive(pkpass []byte) bool {
	zr, err := zip.NewReader(bytes.NewReader(pkpass), int64(len(pkpass)))
	// ErrInsecurePath comes with a usable reader; checkPaths reports the
	// offending names itself.
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		c.problem("PKG-01", "", "the package is not a ZIP archive: %v", err)
		return false
	}
	c.files = make(map[string][]byte, len(zr.File))
	var total int
	for _, f := range zr.File {
		name := f.Name
		if strings.HasSuffix(name, "/") {
			c.dirs = append(c.dirs, name)
			continue
		}
		if _, dup := c.files[name]; dup {
			c.problem("PKG-03", name, "%s appears more than once in the archive", name)
			continue
		}
		data, err := readEntry(f)
		if err != nil {
			c.problem("PKG-03", name, "%s cannot be read from the archive: %v", name, err)
			continue
		}
		total += len(data)
		if total > maxTotalSize {
			c.problem("PKG-03", name, "the archive unpacks to more than %d MiB; stopped reading at %s", maxTotalSize>>20, name)
			return true
		}
		c.files[name] = data
		c.order = append(c.order, name)
	}
	return true
}

// readEntry reads one archive entry, refusing entries over maxEntrySize.
func readEntry(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxEntrySize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxEntrySize {
		return nil, fmt.Errorf("larger than %d MiB", maxEntrySize>>20)
	}
	return data, nil
}

// checkRootFiles checks PKG-01: pass.json, manifest.json and signature sit
// at the root of the archive.
func (c *checker) checkRootFiles() {
	for _, want := range []string{passFile, manifestFile, signatureFile} {
		if _, ok := c.files[want]; ok {
			continue
		}
		var nested, otherCase string
		for _, name := range c.order {
			base := path.Base(name)
			switch {
			case base == want && nested == "":
				nested = name
			case strings.EqualFold(base, want) && otherCase == "":
				otherCase = name
			}
		}
		switch {
		case nested != "":
			c.problem("PKG-01", want, "%s is not at the archive root but at %s: zip the package's contents, not the folder holding them", want, nested)
		case otherCase != "":
			c.problem("PKG-01", want, "%s is missing; found %s instead (names are case-sensitive)", want, otherCase)
		default:
			c.problem("PKG-01", want, "%s is missing from the archive root", want)
		}
	}
}

// checkIcons checks PKG-02: icon.png and icon@2x.png exist, at the root or
// in every .lproj folder, and are PNG images.
func (c *checker) checkIcons() {
	lprojs := c.lprojDirs()
	for _, icon := range []string{"icon.png", "icon@2x.png"} {
		paths := []string{icon}
		if _, ok := c.files[icon]; !ok {
			paths = nil
			for _, dir := range lprojs {
				p := dir + "/" + icon
				if _, ok := c.files[p]; !ok {
					paths = nil
					break
				}
				paths = append(paths, p)
			}
		}
		if len(paths) == 0 {
			c.problem("PKG-02", icon, "%s is missing: every pass needs an icon, and Wallet will not open a pass without one", icon)
			continue
		}
		for _, p := range paths {
			if _, err := png.DecodeConfig(bytes.NewReader(c.files[p])); err != nil {
				c.problem("PKG-02", p, "%s is not a valid PNG image: %v", p, err)
			}
		}
	}
	if _, ok := c.files["icon@3x.png"]; !ok {
		c.note("icon@3x.png is missing; it is optional but recommended for current iPhones")
	}
}

// lprojDirs lists the distinct .lproj folders that hold files, sorted.
func (c *checker) lprojDirs() []string {
	seen := make(map[string]bool)
	var dirs []string
	for _, name := range c.order {
		if dir, _, ok := splitLproj(name); ok && !seen[dir] {
			seen[dir] = true
			dirs = append(dirs, dir)
		}
	}
	sort.Strings(dirs)
	return dirs
}

// splitLproj splits "en.lproj/pass.strings" into its folder and file name.
func splitLproj(name string) (dir, file string, ok bool) {
	dir, file, found := strings.Cut(name, "/")
	if !found || !strings.HasSuffix(dir, ".lproj") || len(dir) == len(".lproj") || file == "" || strings.Contains(file, "/") {
		return "", "", false
	}
	return dir, file, true
}

// isJunk reports whether name is operating-system litter that must not be in
// a package: Finder's .DS_Store, AppleDouble "._" files, __MACOSX folders.
func isJunk(name string) bool {
	for _, seg := range strings.Split(strings.TrimSuffix(name, "/"), "/") {
		if seg == "__MACOSX" || seg == ".DS_Store" || strings.HasPrefix(seg, "._") || seg == "Thumbs.db" {
			return true
		}
	}
	return false
}

// checkPaths checks the naming half of PKG-03: no junk, '/' separators,
// clean relative paths, and no folders other than <language>.lproj.
func (c *checker) checkPaths() {
	names := append(append([]string(nil), c.order...), c.dirs...)
	for _, name := range names {
		isDir := strings.HasSuffix(name, "/")
		switch {
		case isJunk(name):
			c.problem("PKG-03", name, "%s is junk (.DS_Store, __MACOSX or an AppleDouble '._' file): remove it from the archive and the manifest", name)
		case strings.Contains(name, `\`):
			c.problem("PKG-03", name, "%q uses '\\' as a path separator; ZIP paths must use '/'", name)
		case !isCleanPath(name):
			c.problem("PKG-03", name, "%q is not a clean relative path", name)
		case isDir:
			if dir := strings.TrimSuffix(name, "/"); strings.Contains(dir, "/") || !strings.HasSuffix(dir, ".lproj") {
				c.problem("PKG-03", name, "folder %s is not allowed: only <language>.lproj folders may sit next to the root files", name)
			}
		case strings.Contains(name, "/"):
			if _, _, ok := splitLproj(name); ok {
				continue
			}
			switch path.Base(name) {
			case passFile, manifestFile, signatureFile:
				continue // PKG-01 reports these with a better message.
			}
			c.problem("PKG-03", name, "%s is in a folder; files belong at the root or directly in a <language>.lproj folder", name)
		}
	}
}

// isCleanPath reports whether name is a relative path without empty, "."
// or ".." segments.
func isCleanPath(name string) bool {
	name = strings.TrimSuffix(name, "/")
	if name == "" || strings.HasPrefix(name, "/") {
		return false
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}
