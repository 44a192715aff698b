package app

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/db"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/jobs"
	"github.com/commons-gov/commons/internal/mail"
	"github.com/commons-gov/commons/internal/outbox"
	"github.com/commons-gov/commons/internal/platform"
)

// Admin carries out `commons admin` commands. It works beside running nodes on the same
// database: it migrates (a no-op when current) and inserts jobs for them to work.
type Admin struct {
	app *App
}

// cliActor is who the audit log says made a change from the command line.
var cliActor = platform.Actor{Label: "commons admin (command line)"}

// OpenAdmin opens the database for admin commands.
func OpenAdmin(ctx context.Context, cfg Config) (*Admin, error) {
	if cfg.Dev {
		if err := cfg.LoadDevSecretKey(); err != nil {
			return nil, err
		}
	}
	d, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if err := MigrateDB(ctx, d); err != nil {
		d.Close()
		return nil, err
	}
	a := &App{cfg: cfg, db: d, Platform: platform.New(d, cfg.Keyring), Outbox: outbox.New(d)}
	workers := river.NewWorkers()
	river.AddWorker(workers, &mail.Worker{Sender: a.mailSender()})
	if a.Jobs, err = jobs.New(d, jobs.Config{Workers: workers}); err != nil {
		d.Close()
		return nil, err
	}
	a.Platform.OnInvite = a.sendInvitation
	return &Admin{app: a}, nil
}

// Close releases the database.
func (ad *Admin) Close() error { return ad.app.Close() }

// OrganisationOut is what create-organisation prints.
type OrganisationOut struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// CreateOrganisation makes an organisation.
func (ad *Admin) CreateOrganisation(ctx context.Context, name string) (OrganisationOut, error) {
	o, err := ad.app.Platform.CreateOrganisation(ctx, cliActor, name)
	if err != nil {
		return OrganisationOut{}, cliError(err)
	}
	return OrganisationOut{ID: o.ID, Name: o.Name}, nil
}

// ServiceOut is what create-service prints.
type ServiceOut struct {
	ID             string  `json:"id"`
	Name           string  `json:"name"`
	OrganisationID *string `json:"organisation_id"`
	Live           bool    `json:"live"`
}

// CreateService makes a service, in trial mode unless live.
func (ad *Admin) CreateService(ctx context.Context, name, organisationID string, live bool) (ServiceOut, error) {
	s, err := ad.app.Platform.CreateService(ctx, cliActor, platform.NewService{Name: name, OrganisationID: organisationID, Live: live})
	if err != nil {
		return ServiceOut{}, cliError(err)
	}
	out := ServiceOut{ID: s.ID, Name: s.Name, Live: s.Live}
	if s.OrganisationID != "" {
		out.OrganisationID = &s.OrganisationID
	}
	return out, nil
}

// APIKeyOut is what create-api-key prints. Key is shown this once and never again.
type APIKeyOut struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	Key  string `json:"key"`
}

// CreateAPIKey makes an API key.
func (ad *Admin) CreateAPIKey(ctx context.Context, serviceID string, t apiauth.KeyType, name string) (APIKeyOut, error) {
	k, key, err := ad.app.Platform.CreateAPIKey(ctx, cliActor, serviceID, name, t)
	if err != nil {
		return APIKeyOut{}, cliError(err)
	}
	return APIKeyOut{ID: k.ID, Name: k.Name, Type: string(k.Type), Key: key}, nil
}

// UserOut is what create-user prints.
type UserOut struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	SignInURL string `json:"sign_in_url"`
}

// CreateUser makes a person, optionally a platform admin and optionally a member of a service,
// and returns a one-time link for their first sign-in. Adding them to a service is an
// invitation, so in development mode the invitation email also reaches the outbox.
func (ad *Admin) CreateUser(ctx context.Context, email string, platformAdmin bool, serviceID string, perms []string) (UserOut, error) {
	p := ad.app.Platform
	var (
		u     platform.User
		token string
		err   error
	)
	if serviceID != "" {
		if platformAdmin {
			if u, err = p.CreateUser(ctx, cliActor, email, true); err != nil {
				return UserOut{}, cliError(err)
			}
		}
		u, token, err = p.Invite(ctx, cliActor, serviceID, email, perms)
	} else {
		if u, err = p.CreateUser(ctx, cliActor, email, platformAdmin); err == nil {
			token, err = p.IssueSignInToken(ctx, u.ID, platform.PurposeFirstSignIn, 72*time.Hour)
		}
	}
	if err != nil {
		return UserOut{}, cliError(err)
	}
	return UserOut{ID: u.ID, Email: u.Email, SignInURL: ad.app.cfg.BaseURL + "/admin/link/" + token}, nil
}

// cliError turns the platform's refusals of bad input into usage errors (exit status 2),
// naming the flag at fault where the platform named a field.
func cliError(err error) error {
	var fe *failure.Error
	if asFailure(err, &fe) && fe.Kind != failure.Internal && fe.Kind != failure.Unavailable {
		if fe.Field != "" {
			return usagef("--%s: %s", flagFor(fe.Field), fe.Message)
		}
		return usagef("%s", fe.Message)
	}
	return err
}

func flagFor(field string) string {
	switch field {
	case "organisation_id":
		return "organisation"
	case "service_id":
		return "service"
	case "key_type":
		return "type"
	}
	return field
}
