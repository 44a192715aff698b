package console

import (
	"net/http"

	"github.com/commons-gov/commons/internal/platform"
	"github.com/commons-gov/commons/internal/web"
)

// mobileNumberPage is the form where a person gives, changes or removes their own mobile
// number. Services they are on can text it while in trial mode or with a team key, as they
// can already email them.
type mobileNumberPage struct {
	chrome
	*web.Form
	Hint string
}

func (c *Console) mobileNumberPage(w http.ResponseWriter, r *http.Request, s *session) error {
	f := web.NewForm()
	f.Set("mobile_number", s.user.MobileNumber)
	return c.render(w, r, "mobile-number", c.newMobileNumberPage(s, f))
}

func (c *Console) newMobileNumberPage(s *session, f *web.Form) mobileNumberPage {
	hint := "A UK mobile number, like 07700 900 982, or a number abroad with its country code, like +61 412 345 678. " +
		"Services you are on can send text messages to it while they are in trial mode or using a team and guest list key."
	if s.user.MobileNumber != "" {
		hint += " To remove your number, delete it and save."
	}
	return mobileNumberPage{chrome: c.chrome(s, nil, ""), Form: f, Hint: hint}
}

// setMobileNumber saves the person's own mobile number, in the form Notify can text, or
// removes it when they empty the field of a number they had.
func (c *Console) setMobileNumber(w http.ResponseWriter, r *http.Request, s *session) error {
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	number := f.Get("mobile_number")
	removing := number == "" && s.user.MobileNumber != ""
	if !removing {
		check := c.cfg.CheckMobileNumber
		if check == nil {
			check = platform.CheckMobileNumber
		}
		if number, err = check(number); err != nil && !f.Fail(err, "mobile_number") {
			return err
		}
	}
	if f.Valid() {
		err = c.store.SetMobileNumber(r.Context(), s.actor(), s.user.ID, number)
		switch {
		case err == nil && removing:
			return redirect(w, r, "/admin/account", "Your mobile number has been removed")
		case err == nil:
			return redirect(w, r, "/admin/account", "Your mobile number has been saved")
		case !f.Fail(err, "mobile_number"):
			return err
		}
	}
	return c.renderInvalid(w, r, "mobile-number", c.newMobileNumberPage(s, f))
}
