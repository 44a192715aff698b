package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/platform"
)

// printFirstSignIn makes sure a development node can be signed in to: until some platform
// admin has set a password, every start creates (or reuses) the first admin and prints a fresh
// one-time link for them.
func (a *App) printFirstSignIn(ctx context.Context, w io.Writer) error {
	users, err := a.Platform.Users(ctx)
	if err != nil {
		return err
	}
	var admin *platform.User
	for i, u := range users {
		if u.PlatformAdmin && u.HasPassword {
			return nil
		}
		if u.PlatformAdmin && admin == nil {
			admin = &users[i]
		}
	}
	if admin == nil {
		u, err := a.Platform.CreateUser(ctx, platform.SystemActor, a.cfg.AdminEmail, true)
		if failure.Is(err, failure.Conflict) {
			// The address belongs to someone who is not an admin; that is the operator's call.
			return fmt.Errorf("--admin-email %s belongs to an existing user who is not a platform admin: choose another address", a.cfg.AdminEmail)
		}
		if err != nil {
			return err
		}
		admin = &u
	}
	token, err := a.Platform.IssueSignInToken(ctx, admin.ID, platform.PurposeFirstSignIn, 24*time.Hour)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nCommons is running at %s\nSign in as the first platform admin (%s) with this one-time link, valid for 24 hours:\n\n  %s/admin/link/%s\n\n",
		a.cfg.BaseURL, admin.Email, a.cfg.BaseURL, token)
	return nil
}
