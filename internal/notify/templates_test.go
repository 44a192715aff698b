package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/db/dbtest"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/jobs"
	"github.com/commons-gov/commons/internal/outbox"
	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/ratelimit"
	"github.com/commons-gov/commons/internal/secret"
)

func migrateForTemplates(ctx context.Context, d *db.DB) error {
	if err := jobs.Migrate(ctx, d); err != nil {
		return err
	}
	return d.Migrate(ctx, platform.Migrations, outbox.Migrations, ratelimit.Migrations, Migrations)
}

// templateFixture is a Notify service with two tenants, each with a live and a test key.
type templateFixture struct {
	svc        *Service
	mux        *http.ServeMux
	serviceA   string
	serviceB   string
	keyA, keyB string
	testKeyA   string
}

func newTemplateFixture(t *testing.T, d *db.DB) *templateFixture {
	t.Helper()
	ctx := context.Background()
	ring, err := secret.ParseKeyring(secret.Generate())
	if err != nil {
		t.Fatal(err)
	}
	p := platform.New(d, ring)
	f := &templateFixture{}
	for _, name := range []string{"A", "B"} {
		s, err := p.CreateService(ctx, platform.CLIActor, platform.NewService{Name: "Service " + name, Live: true})
		if err != nil {
			t.Fatal(err)
		}
		_, key, err := p.CreateAPIKey(ctx, platform.CLIActor, s.ID, "main", apiauth.Live)
		if err != nil {
			t.Fatal(err)
		}
		if name == "A" {
			f.serviceA, f.keyA = s.ID, key
			_, f.testKeyA, _ = p.CreateAPIKey(ctx, platform.CLIActor, s.ID, "test", apiauth.Test)
		} else {
			f.serviceB, f.keyB = s.ID, key
		}
	}
	f.svc = New(Config{DB: d, Platform: p, Auth: apiauth.New(p), Keyring: ring, Limiter: ratelimit.New(d)})
	f.mux = http.NewServeMux()
	f.svc.Mount(f.mux)
	return f
}

func (f *templateFixture) call(t *testing.T, method, path, key, body string) (int, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if key != "" {
		r.Header.Set("Authorization", "Bearer "+key)
	}
	w := httptest.NewRecorder()
	f.mux.ServeHTTP(w, r)
	var out map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &out)
	return w.Code, out
}

func TestTemplateVersionsAndArchive(t *testing.T) {
	dbtest.Each(t, migrateForTemplates, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newTemplateFixture(t, d)
		s := f.svc
		tpl, err := s.CreateTemplate(ctx, f.serviceA, "someone@example.gov.uk", TemplateInput{
			Name: "Reminder", Type: Email, Subject: "Your ((thing))", Content: "Hello ((name))"})
		if err != nil || tpl.Version != 1 {
			t.Fatalf("create: %+v %v", tpl, err)
		}
		same, err := s.UpdateTemplate(ctx, f.serviceA, tpl.ID, "x", TemplateInput{Name: "Reminder", Subject: "Your ((thing))", Content: "Hello ((name))"})
		if err != nil || same.Version != 1 {
			t.Fatalf("an unchanged update made version %d (%v)", same.Version, err)
		}
		v2, err := s.UpdateTemplate(ctx, f.serviceA, tpl.ID, "x", TemplateInput{Name: "Reminder", Subject: "Your ((thing))", Content: "Hi ((name))"})
		if err != nil || v2.Version != 2 || v2.UpdatedAt == nil {
			t.Fatalf("update: %+v %v", v2, err)
		}
		old, err := s.TemplateVersion(ctx, f.serviceA, tpl.ID, 1)
		if err != nil || old.Content != "Hello ((name))" || old.Version != 1 {
			t.Fatalf("version 1: %+v %v", old, err)
		}
		if _, err := s.TemplateVersion(ctx, f.serviceA, tpl.ID, 9); !failure.Is(err, failure.NotFound) {
			t.Fatalf("unknown version: %v", err)
		}
		// Another service cannot see it.
		if _, err := s.Template(ctx, f.serviceB, tpl.ID); !failure.Is(err, failure.NotFound) {
			t.Fatalf("cross-tenant read: %v", err)
		}
		if _, err := s.UpdateTemplate(ctx, f.serviceB, tpl.ID, "x", TemplateInput{Name: "Mine", Subject: "s", Content: "c"}); !failure.Is(err, failure.NotFound) {
			t.Fatalf("cross-tenant update: %v", err)
		}
		arch, err := s.ArchiveTemplate(ctx, f.serviceA, tpl.ID, "x")
		if err != nil || !arch.Archived || arch.Version != 3 {
			t.Fatalf("archive: %+v %v", arch, err)
		}
		list, _ := s.Templates(ctx, f.serviceA, TemplateFilter{})
		if len(list) != 0 {
			t.Fatalf("archived template listed: %v", list)
		}
		list, _ = s.Templates(ctx, f.serviceA, TemplateFilter{IncludeArchived: true})
		if len(list) != 1 {
			t.Fatalf("include archived: %v", list)
		}
		versions, _ := s.TemplateVersions(ctx, f.serviceA, tpl.ID)
		if len(versions) != 3 || versions[0].Version != 3 {
			t.Fatalf("versions: %v", versions)
		}
	})
}

func TestTemplateValidationSavesNothing(t *testing.T) {
	dbtest.Each(t, migrateForTemplates, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newTemplateFixture(t, d)
		for _, in := range []TemplateInput{
			{Name: "", Type: Email, Subject: "s", Content: "c"},
			{Name: "n", Type: "fax", Content: "c"},
			{Name: "n", Type: Email, Content: "c"},
			{Name: "n", Type: SMS, Subject: "s", Content: "c"},
			{Name: "n", Type: Letter, Subject: "s", Content: "c", Postage: "pigeon"},
			{Name: "n", Type: Letter, Subject: "s", Content: "c", LetterContactID: "nope"},
			{Name: "n", Type: SMS, Content: "  "},
		} {
			if _, err := f.svc.CreateTemplate(ctx, f.serviceA, "x", in); !failure.Is(err, failure.Invalid) {
				t.Errorf("%+v: got %v, want invalid", in, err)
			}
		}
		var n int
		if err := d.QueryRow(ctx, "SELECT count(*) FROM notify_templates").Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d templates saved from invalid input (%v)", n, err)
		}
	})
}

func TestManagementAPI(t *testing.T) {
	dbtest.Each(t, migrateForTemplates, func(t *testing.T, d *db.DB) {
		f := newTemplateFixture(t, d)
		status, body := f.call(t, "POST", "/api/notify/v1/templates", f.keyA,
			`{"name":"Letter","type":"letter","subject":"About ((thing))","content":"Dear ((name))","postage":"first"}`)
		if status != 201 || body["version"] != 1.0 || body["postage"] != "first" || body["created_at"] == nil {
			t.Fatalf("create = %d %v", status, body)
		}
		id := body["id"].(string)
		status, body = f.call(t, "PUT", "/api/notify/v1/templates/"+id, f.keyA,
			`{"name":"Letter","subject":"About ((thing))","content":"Dear ((name)), hello","postage":"first"}`)
		if status != 200 || body["version"] != 2.0 || body["updated_at"] == nil {
			t.Fatalf("update = %d %v", status, body)
		}
		status, body = f.call(t, "PUT", "/api/notify/v1/templates/"+id, f.keyA, `{"name":"x","type":"sms","content":"c"}`)
		if status != 400 || body["errors"] == nil {
			t.Fatalf("changing type = %d %v", status, body)
		}
		status, body = f.call(t, "POST", "/api/notify/v1/templates", f.keyA, `{"name":"","type":"email","content":""}`)
		errs, _ := body["errors"].([]any)
		if status != 400 || len(errs) < 3 {
			t.Fatalf("invalid create = %d %v", status, body)
		}
		if status, _ := f.call(t, "POST", "/api/notify/v1/templates", f.keyA, `{"name":"n","type":"sms","content":"c","colour":"red"}`); status != 400 {
			t.Fatalf("unknown field accepted: %d", status)
		}
		if status, _ := f.call(t, "GET", "/api/notify/v1/templates/"+id, f.keyB, ""); status != 404 {
			t.Fatalf("cross-tenant get = %d", status)
		}
		if status, _ := f.call(t, "POST", "/api/notify/v1/templates", f.testKeyA, `{"name":"n","type":"sms","content":"c"}`); status != 403 {
			t.Fatalf("test key create = %d", status)
		}
		if status, _ := f.call(t, "GET", "/api/notify/v1/templates", "", ""); status != 401 {
			t.Fatalf("no key = %d", status)
		}
		status, body = f.call(t, "GET", "/api/notify/v1/templates/"+id+"/versions", f.keyA, "")
		if list, _ := body["templates"].([]any); status != 200 || len(list) != 2 {
			t.Fatalf("versions = %d %v", status, body)
		}
		status, body = f.call(t, "POST", "/api/notify/v1/templates/"+id+"/archive", f.keyA, "")
		if status != 200 || body["archived"] != true {
			t.Fatalf("archive = %d %v", status, body)
		}
		status, body = f.call(t, "GET", "/api/notify/v1/templates", f.keyA, "")
		if list, _ := body["templates"].([]any); status != 200 || len(list) != 0 {
			t.Fatalf("list after archive = %d %v", status, body)
		}
	})
}
