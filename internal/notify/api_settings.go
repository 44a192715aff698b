package notify

import (
	"net/http"

	"github.com/commons-gov/commons/internal/apiauth"
	"github.com/commons-gov/commons/internal/failure"
	"github.com/commons-gov/commons/internal/notify/content"
	"github.com/commons-gov/commons/internal/web"
)

// The sending settings in the management API: reply-to addresses, text message senders,
// letter contact blocks, callbacks and the guest list.

type senderJSON struct {
	ID        string `json:"id"`
	Value     string `json:"value"`
	IsDefault bool   `json:"is_default"`
	Inbound   *bool  `json:"inbound,omitempty"`
}

type senderRequest struct {
	Value     string `json:"value"`
	IsDefault bool   `json:"is_default"`
	Inbound   bool   `json:"inbound"`
}

// senderRoutes is one kind of sender's list, add and remove operations.
type senderRoutes struct {
	path   string
	list   func(s *Service, r *http.Request, serviceID string) ([]Sender, error)
	add    func(s *Service, r *http.Request, serviceID string, req senderRequest) (Sender, error)
	remove func(s *Service, r *http.Request, serviceID, id string) error
	sms    bool
}

var senderAPIs = []senderRoutes{
	{path: "reply-to-addresses",
		list: func(s *Service, r *http.Request, sid string) ([]Sender, error) { return s.ReplyTos(r.Context(), sid) },
		add: func(s *Service, r *http.Request, sid string, req senderRequest) (Sender, error) {
			return s.AddReplyTo(r.Context(), sid, req.Value, req.IsDefault)
		},
		remove: func(s *Service, r *http.Request, sid, id string) error { return s.RemoveReplyTo(r.Context(), sid, id) }},
	{path: "sms-senders", sms: true,
		list: func(s *Service, r *http.Request, sid string) ([]Sender, error) { return s.SMSSenders(r.Context(), sid) },
		add: func(s *Service, r *http.Request, sid string, req senderRequest) (Sender, error) {
			return s.AddSMSSender(r.Context(), sid, req.Value, req.IsDefault, req.Inbound)
		},
		remove: func(s *Service, r *http.Request, sid, id string) error {
			return s.RemoveSMSSender(r.Context(), sid, id)
		}},
	{path: "letter-contacts",
		list: func(s *Service, r *http.Request, sid string) ([]Sender, error) {
			return s.LetterContacts(r.Context(), sid)
		},
		add: func(s *Service, r *http.Request, sid string, req senderRequest) (Sender, error) {
			return s.AddLetterContact(r.Context(), sid, req.Value, req.IsDefault)
		},
		remove: func(s *Service, r *http.Request, sid, id string) error {
			return s.RemoveLetterContact(r.Context(), sid, id)
		}},
}

func toSenderJSON(x Sender, sms bool) senderJSON {
	out := senderJSON{ID: x.ID, Value: x.Value, IsDefault: x.IsDefault}
	if sms {
		in := x.Inbound
		out.Inbound = &in
	}
	return out
}

func (s *Service) mountSettingsAPI(mux *http.ServeMux, p string) {
	for _, api := range senderAPIs {
		mux.Handle("GET "+p+"/"+api.path, s.managed(func(w http.ResponseWriter, r *http.Request, id apiauth.Identity) error {
			list, err := api.list(s, r, id.ServiceID)
			if err != nil {
				return err
			}
			out := make([]senderJSON, 0, len(list))
			for _, x := range list {
				out = append(out, toSenderJSON(x, api.sms))
			}
			web.WriteJSON(w, http.StatusOK, "", map[string]any{"data": out})
			return nil
		}))
		mux.Handle("POST "+p+"/"+api.path, s.managed(func(w http.ResponseWriter, r *http.Request, id apiauth.Identity) error {
			var req senderRequest
			if err := web.DecodeJSON(w, r, &req); err != nil {
				return err
			}
			if req.Inbound && !api.sms {
				return failure.Field("inbound", "Only text message senders can be inbound numbers")
			}
			x, err := api.add(s, r, id.ServiceID, req)
			if err != nil {
				return err
			}
			web.WriteJSON(w, http.StatusCreated, "", toSenderJSON(x, api.sms))
			return nil
		}))
		mux.Handle("DELETE "+p+"/"+api.path+"/{id}", s.managed(func(w http.ResponseWriter, r *http.Request, id apiauth.Identity) error {
			if err := api.remove(s, r, id.ServiceID, r.PathValue("id")); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		}))
	}
	mux.Handle("GET "+p+"/callbacks", s.managed(s.apiListCallbacks))
	mux.Handle("PUT "+p+"/callbacks/{type}", s.managed(s.apiSetCallback))
	mux.Handle("DELETE "+p+"/callbacks/{type}", s.managed(func(w http.ResponseWriter, r *http.Request, id apiauth.Identity) error {
		if err := s.RemoveCallback(r.Context(), id.ServiceID, r.PathValue("type")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	mux.Handle("GET "+p+"/guest-list", s.managed(s.apiGetGuestList))
	mux.Handle("PUT "+p+"/guest-list", s.managed(s.apiSetGuestList))
}

type callbackJSON struct {
	Type        string `json:"callback_type"`
	URL         string `json:"url"`
	BearerToken string `json:"bearer_token,omitempty"`
}

func (s *Service) apiListCallbacks(w http.ResponseWriter, r *http.Request, id apiauth.Identity) error {
	cbs, err := s.Callbacks(r.Context(), id.ServiceID)
	if err != nil {
		return err
	}
	out := make([]callbackJSON, 0, len(cbs))
	for _, c := range cbs {
		// The token is never shown back: a team that lost it sets a new one.
		out = append(out, callbackJSON{Type: c.Type, URL: c.URL})
	}
	web.WriteJSON(w, http.StatusOK, "", map[string]any{"data": out})
	return nil
}

func (s *Service) apiSetCallback(w http.ResponseWriter, r *http.Request, id apiauth.Identity) error {
	var req struct {
		URL         string `json:"url"`
		BearerToken string `json:"bearer_token"`
	}
	if err := web.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	c := Callback{ServiceID: id.ServiceID, Type: r.PathValue("type"), URL: req.URL, BearerToken: req.BearerToken}
	if err := s.SetCallback(r.Context(), c); err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, "", callbackJSON{Type: c.Type, URL: c.URL})
	return nil
}

type guestListJSON struct {
	EmailAddresses []string `json:"email_addresses"`
	PhoneNumbers   []string `json:"phone_numbers"`
}

func (s *Service) apiGetGuestList(w http.ResponseWriter, r *http.Request, id apiauth.Identity) error {
	entries, err := s.GuestList(r.Context(), id.ServiceID)
	if err != nil {
		return err
	}
	out := guestListJSON{EmailAddresses: []string{}, PhoneNumbers: []string{}}
	for _, e := range entries {
		if e.Type == "email" {
			out.EmailAddresses = append(out.EmailAddresses, e.Recipient)
		} else {
			out.PhoneNumbers = append(out.PhoneNumbers, e.Recipient)
		}
	}
	web.WriteJSON(w, http.StatusOK, "", out)
	return nil
}

func (s *Service) apiSetGuestList(w http.ResponseWriter, r *http.Request, id apiauth.Identity) error {
	var req guestListJSON
	if err := web.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	emails, phones, err := NormaliseGuestList(req.EmailAddresses, req.PhoneNumbers)
	if err != nil {
		return err
	}
	if err := s.SetGuestList(r.Context(), id.ServiceID, emails, phones); err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, "", guestListJSON{EmailAddresses: emails, PhoneNumbers: phones})
	return nil
}

// NormaliseGuestList validates guest list entries and returns them in the form recipients are
// compared in.
func NormaliseGuestList(emails, phones []string) ([]string, []string, error) {
	var errs []error
	outE, outP := []string{}, []string{}
	for _, e := range emails {
		n, err := content.ValidateEmail(e)
		if err != nil {
			errs = append(errs, failure.Field("email_addresses", "%q is not a valid email address", e))
			continue
		}
		outE = append(outE, n)
	}
	for _, p := range phones {
		ph, err := content.ParsePhone(p)
		if err != nil {
			errs = append(errs, failure.Field("phone_numbers", "%q is not a valid phone number", p))
			continue
		}
		outP = append(outP, ph.Normalised)
	}
	if len(errs) > 0 {
		return nil, nil, joinFieldErrors(errs)
	}
	return outE, outP, nil
}
