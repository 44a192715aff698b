package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
)

// static holds the front-end files: the committed commons.css and commons.js, which keep the
// embed valid on a clean checkout, and GOV.UK Frontend's files under govuk/, which
// `make assets` copies from npm before the build. The all: prefix embeds every file copied
// there, whatever its name.
//
//go:embed all:static
var static embed.FS

// AssetPrefix is where the front-end files are served.
const AssetPrefix = "/assets/"

// govukCSS is the file whose presence means GOV.UK Frontend was built into the binary.
const govukCSS = "govuk/govuk-frontend.min.css"

// assets is the embedded files with a short content hash for each, so pages can link to
// /assets/x?v=hash and browsers may cache every file for a year: a new build changes the hash
// and therefore the URL.
type assets struct {
	files    fs.FS
	versions map[string]string
	styled   bool
}

var loadAssets = sync.OnceValue(func() *assets {
	files, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder exists
	}
	a := &assets{files: files, versions: map[string]string{}}
	_ = fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a.versions[name] = hex.EncodeToString(sum[:6])
		return nil
	})
	_, a.styled = a.versions[govukCSS]
	return a
})

// url returns the versioned address of an embedded file.
func (a *assets) url(name string) string {
	if v, ok := a.versions[name]; ok {
		return AssetPrefix + name + "?v=" + v
	}
	return AssetPrefix + name
}

var unstyledWarning sync.Once

// warnUnstyled logs, once per process, that pages will be served without GOV.UK Frontend's
// styles, so an operator who forgot `make assets` finds out from the log rather than a user.
func warnUnstyled(logger *slog.Logger, a *assets) {
	if a.styled {
		return
	}
	unstyledWarning.Do(func() {
		logger.Warn("GOV.UK Frontend files are missing from this build, so pages are served unstyled; run `make assets` before building")
	})
}

// MountAssets registers Assets on mux at AssetPrefix.
func MountAssets(mux *http.ServeMux) { mux.Handle("GET "+AssetPrefix, Assets()) }

// Assets serves the embedded front-end files under AssetPrefix. Versioned requests (?v=) are
// cacheable for a year; unversioned ones (images that GOV.UK Frontend's CSS refers to) for a
// day. Folders are not listed.
func Assets() http.Handler {
	a := loadAssets()
	files := http.FileServerFS(a.files)
	return http.StripPrefix(strings.TrimSuffix(AssetPrefix, "/"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		v, ok := a.versions[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		if r.URL.Query().Has("v") {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "public, max-age=86400")
		}
		h.Set("ETag", `"`+v+`"`)
		files.ServeHTTP(w, r)
	}))
}
