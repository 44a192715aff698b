package pay

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/commons-gov/commons/internal/console"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/web"
)

// The provider settings: which provider takes the service's live payments, the service's
// Stripe secret key, and the options GOV.UK Pay keeps on a gateway account (MOTO, card details
// through the API, zero amounts, recurring payments). The secret key is sealed by Credentials
// as soon as it arrives and never shown again: the page says only whether one is saved, and
// its last four characters so that a team can tell which key it is.

// stripeProvider is the Stripe adapter's provider name (stripepsp.Name, which this package
// cannot import), under which the key is stored and which the settings choose.
const stripeProvider = "stripe"

// The option checkboxes' values.
const (
	optionMOTO       = "moto"
	optionMOTOAPI    = "moto_api"
	optionZeroAmount = "zero_amount"
	optionRecurring  = "recurring"
)

var providerOptions = []web.Option{
	{Value: SandboxName, Label: "Sandbox", Hint: "No real money moves. Use it until the service has its own provider account. Test payments always use the sandbox."},
	{Value: stripeProvider, Label: "Stripe", Hint: "Live payments go to the service’s own Stripe account, using its secret key."},
}

var settingsOptions = []web.Option{
	{Value: optionMOTO, Label: "Mail order and telephone payments", Hint: "Payments made with moto: true, which skip 3-D Secure because the payer is not there."},
	{Value: optionMOTOAPI, Label: "Card details sent through the API", Hint: "Payments made with authorisation_mode moto_api, for the service’s own telephone payment system."},
	{Value: optionZeroAmount, Label: "Payments of £0", Hint: "To check a card without taking money."},
	{Value: optionRecurring, Label: "Recurring card payments", Hint: "Agreements that save a card for later payments."},
}

type settingsData struct {
	paymentsView
	*web.Form
	Providers, Options []web.Option
	// KeysStored is false when this node cannot seal secrets, so no key can be saved.
	KeysStored bool
	// KeyEnding is the saved Stripe key's last four characters, "" when none is saved.
	KeyEnding  string
	KeyProblem string
}

// KeyHint is the secret key field's hint.
func (d settingsData) KeyHint() string {
	if d.KeyEnding != "" {
		return "A secret key ending ‘" + d.KeyEnding + "’ is saved. It is never shown again. Leave this empty to keep it."
	}
	return "It starts sk_live_ (or rk_live_ for a restricted key). It is stored encrypted and never shown again."
}

func (p *paymentsConsole) settingsData(ctx context.Context, pc console.PageContext, f *web.Form) settingsData {
	d := settingsData{paymentsView: newPaymentsView(pc, "settings"), Form: f, Providers: providerOptions,
		Options: settingsOptions, KeysStored: p.deps.Credentials != nil}
	if d.KeysStored {
		d.KeyEnding, d.KeyProblem = p.stripeKeyEnding(ctx, pc.Service.ID)
	}
	return d
}

// stripeKeyEnding returns the last four characters of the service's saved Stripe key, or why
// they cannot be shown. The key itself goes no further than this function.
func (p *paymentsConsole) stripeKeyEnding(ctx context.Context, serviceID string) (ending, problem string) {
	key, err := p.deps.Credentials.ProviderCredential(ctx, serviceID, stripeProvider)
	switch {
	case failure.Is(err, failure.NotFound):
		return "", ""
	case err != nil:
		p.s.log.ErrorContext(ctx, "pay: cannot open a saved provider secret", "service_id", serviceID, "error", err)
		return "", "A secret key is saved but Commons cannot open it. Ask the people who run Commons to check its secret key, or save the key again."
	}
	if len(key) < 4 {
		return "set", ""
	}
	return key[len(key)-4:], ""
}

func (p *paymentsConsole) settingsPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	st, err := p.s.Settings(r.Context(), pc.Service.ID)
	if err != nil {
		return err
	}
	f := web.NewForm()
	f.Set("provider", st.Provider)
	f.Set("options", settingsValues(st)...)
	return p.render(w, r, "settings", p.settingsData(r.Context(), pc, f))
}

// settingsValues are the checkboxes a service's settings tick.
func settingsValues(st Settings) []string {
	var out []string
	for _, o := range []struct {
		on    bool
		value string
	}{{st.MOTOEnabled, optionMOTO}, {st.MOTOAPIEnabled, optionMOTOAPI}, {st.AllowZeroAmount, optionZeroAmount},
		{st.RecurringEnabled, optionRecurring}} {
		if o.on {
			out = append(out, o.value)
		}
	}
	return out
}

// checkStripeKey accepts the shape of a Stripe secret or restricted key. It cannot tell
// whether the key works; Stripe says so on the first payment.
func checkStripeKey(key string) bool {
	var rest string
	var ok bool
	for _, prefix := range []string{"sk_live_", "sk_test_", "rk_live_", "rk_test_"} {
		if rest, ok = strings.CutPrefix(key, prefix); ok {
			break
		}
	}
	if !ok || len(rest) < 10 || len(key) > 255 {
		return false
	}
	for _, c := range rest {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func (p *paymentsConsole) saveSettings(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseArchived(pc); err != nil {
		return err
	}
	ctx := r.Context()
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	key := strings.TrimSpace(f.Raw("stripe_key"))
	f.Forget("stripe_key") // a redisplayed form must not carry the secret back to the browser
	data := p.settingsData(ctx, pc, f)
	before, err := p.s.Settings(ctx, pc.Service.ID)
	if err != nil {
		return err
	}
	opts := f.All("options")
	after := Settings{Provider: f.Get("provider"), MOTOEnabled: slices.Contains(opts, optionMOTO),
		MOTOAPIEnabled: slices.Contains(opts, optionMOTOAPI), AllowZeroAmount: slices.Contains(opts, optionZeroAmount),
		RecurringEnabled: slices.Contains(opts, optionRecurring)}
	for _, o := range opts {
		if !hasOption(settingsOptions, o) {
			f.AddError("options", "Select options from the list")
		}
	}
	switch {
	case !hasOption(providerOptions, after.Provider):
		f.AddError("provider", "Choose a payment provider")
	case after.Provider != SandboxName:
		if _, ok := p.s.provider(after.Provider); !ok {
			f.AddError("provider", "Commons is not set up to take payments with this provider yet. Choose another, or ask the people who run Commons")
		} else if after.Provider == stripeProvider && key == "" && data.KeyEnding == "" {
			f.AddError("stripe_key", "Enter the service’s Stripe secret key to take payments with Stripe")
		}
	}
	if key != "" {
		switch {
		case !data.KeysStored:
			f.AddError("stripe_key", "Commons cannot store secret keys until it has a secret key of its own (COMMONS_SECRET_KEY)")
		case !checkStripeKey(key):
			f.AddError("stripe_key", "Enter a Stripe secret key, starting sk_live_, sk_test_, rk_live_ or rk_test_")
		}
	}
	if !f.Valid() {
		return p.renderInvalid(w, r, "settings", data)
	}
	if key != "" {
		if err := p.deps.Credentials.SetProviderCredentials(ctx, pc.Service.ID, stripeProvider, key); err != nil {
			if f.Fail(err, "stripe_key") {
				return p.renderInvalid(w, r, "settings", data)
			}
			return err
		}
		p.auditAfter(ctx, pc, auditPayCredentialsSaved, "provider_credentials", stripeProvider,
			map[string]any{"name": "Stripe secret key", "provider": stripeProvider})
	}
	if err := p.s.SetSettings(ctx, pc.Service.ID, after); err != nil {
		if f.Fail(err, "provider") {
			return p.renderInvalid(w, r, "settings", data)
		}
		return err
	}
	if changes := paySettingsChanges(before, after); len(changes) > 0 {
		p.auditAfter(ctx, pc, auditPaySettings, "settings", pc.Service.ID, changes)
	}
	return p.done(w, r, data.Base()+"/settings", "Payment settings saved")
}

// paySettingsChanges lists the settings that differ, with their old and new values, for the
// audit log.
func paySettingsChanges(before, after Settings) map[string]any {
	out := map[string]any{}
	add := func(name string, from, to any) {
		if from != to {
			out[name] = map[string]any{"from": from, "to": to}
		}
	}
	add("provider", before.Provider, after.Provider)
	add("moto_enabled", before.MOTOEnabled, after.MOTOEnabled)
	add("moto_api_enabled", before.MOTOAPIEnabled, after.MOTOAPIEnabled)
	add("allow_zero_amount", before.AllowZeroAmount, after.AllowZeroAmount)
	add("recurring_enabled", before.RecurringEnabled, after.RecurringEnabled)
	return out
}

func (p *paymentsConsole) removeStripeKey(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	if err := refuseArchived(pc); err != nil {
		return err
	}
	ctx := r.Context()
	if p.deps.Credentials == nil {
		return errConsoleNotFound
	}
	st, err := p.s.Settings(ctx, pc.Service.ID)
	if err != nil {
		return err
	}
	if st.Provider == stripeProvider {
		f := web.NewForm()
		f.Set("provider", st.Provider)
		f.Set("options", settingsValues(st)...)
		f.AddError("stripe_key", "Live payments use Stripe. Choose another provider and save the settings before removing the key")
		return p.renderInvalid(w, r, "settings", p.settingsData(ctx, pc, f))
	}
	if err := p.deps.Credentials.RemoveProviderCredentials(ctx, pc.Service.ID, stripeProvider); err != nil {
		return err
	}
	p.auditAfter(ctx, pc, auditPayCredentialRemoved, "provider_credentials", stripeProvider,
		map[string]any{"name": "Stripe secret key", "provider": stripeProvider})
	return p.done(w, r, newPaymentsView(pc, "settings").Base()+"/settings", "Stripe secret key removed")
}
