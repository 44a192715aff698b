package main

import (
	"context"
	"encoding/json"
	"io"
	"strings"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/app"
)

// admin runs `commons admin <command>`: set-up tasks for operators and scripts. Each prints
// one JSON object on success, so scripts can read the ids it made.
func admin(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return &app.UsageError{Msg: "admin needs a command: create-organisation, create-service, create-api-key or create-user"}
	}
	var s app.Settings
	fs := newFlagSet("admin "+args[0], &s, stdout)
	s.BindStorage(fs)
	var (
		name, organisation, service, keyType, email, permissions string
		live, platformAdmin                                      bool
	)
	required := map[string]*string{}
	str := func(p *string, flagName, help string, need bool) {
		fs.StringVar(p, flagName, "", help)
		if need {
			required[flagName] = p
		}
	}
	switch args[0] {
	case "create-organisation":
		str(&name, "name", "the organisation's name", true)
	case "create-service":
		str(&name, "name", "the service's name", true)
		str(&organisation, "organisation", "id of the organisation the service belongs to", false)
		fs.BoolVar(&live, "live", false, "start the service live rather than in trial mode")
	case "create-api-key":
		str(&service, "service", "id of the service the key belongs to", true)
		str(&keyType, "type", "live, team or test", true)
		str(&name, "name", "a name that tells the team what the key is for", true)
	case "create-user":
		str(&email, "email", "the person's email address", true)
		fs.BoolVar(&platformAdmin, "platform-admin", false, "make the person a platform admin")
		str(&service, "service", "id of a service to add the person to", false)
		str(&permissions, "permissions", "comma-separated permissions on that service, such as manage_api_keys,send_messages", false)
	default:
		return &app.UsageError{Msg: "unknown admin command " + quote(args[0]) + ": use create-organisation, create-service, create-api-key or create-user"}
	}
	cfg, err := parse(fs, &s, args[1:])
	if err != nil {
		return err
	}
	for flagName, p := range required {
		if strings.TrimSpace(*p) == "" {
			return &app.UsageError{Msg: "admin " + args[0] + " needs --" + flagName}
		}
	}
	if args[0] == "create-api-key" && !apiauth.KeyType(keyType).Valid() {
		return &app.UsageError{Msg: "--type must be live, team or test, not " + quote(keyType)}
	}
	var perms []string
	if permissions != "" {
		if service == "" {
			return &app.UsageError{Msg: "--permissions needs --service: permissions are given on a service"}
		}
		for _, p := range strings.Split(permissions, ",") {
			if p = strings.TrimSpace(p); p != "" {
				perms = append(perms, p)
			}
		}
	}

	a, err := app.OpenAdmin(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	var out any
	switch args[0] {
	case "create-organisation":
		out, err = a.CreateOrganisation(ctx, name)
	case "create-service":
		out, err = a.CreateService(ctx, name, organisation, live)
	case "create-api-key":
		out, err = a.CreateAPIKey(ctx, service, apiauth.KeyType(keyType), name)
	case "create-user":
		out, err = a.CreateUser(ctx, email, platformAdmin, service, perms)
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(out)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
