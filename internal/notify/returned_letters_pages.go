package notify

import (
	"net/http"
	"strings"

	"github.com/commons-gov/commons/internal/console"
	"github.com/commons-gov/commons/internal/web"
)

// The returned letters page: a box to paste the notification ids or references of letters
// that came back (from the returned envelopes, or a list the printer sends), the outcome for
// each, and the letters recorded lately.

// returnedLettersListed is how many recorded returned letters the page lists.
const returnedLettersListed = 50

type returnedLettersPage struct {
	notifyFormPage
	Results []ReturnedLetterResult
	// Banner says how many letters were recorded; "" when none were.
	Banner   string
	Returned []ReturnedLetter
	Max      int
}

// Name is the first line of a letter's address.
func (r ReturnedLetterResult) Name() string {
	first, _, _ := strings.Cut(r.Recipient, "\n")
	return first
}

// Name is the first line of a returned letter's address, "" once the letter is deleted.
func (l ReturnedLetter) Name() string {
	first, _, _ := strings.Cut(l.Recipient, "\n")
	return first
}

// Said is the outcome in words.
func (r ReturnedLetterResult) Said() string {
	switch r.Outcome {
	case ReturnedRecorded:
		return "Recorded as returned"
	case ReturnedAlready:
		return "Already recorded as returned"
	case ReturnedNotPosted:
		label, _ := shownStatusLabel(Letter, r.Status)
		return "Not recorded: the letter has not been posted (" + strings.ToLower(label) + ")"
	case ReturnedAmbiguous:
		return "Not recorded: more than one letter has this reference, so use the notification ID"
	}
	return "Not recorded: no letter has this notification ID or reference"
}

func newReturnedLettersPage(pc console.PageContext, f *web.Form) returnedLettersPage {
	return returnedLettersPage{notifyFormPage: notifyFormPage{notifyPage: newNotifyPage(pc, "letters"), Form: f},
		Max: MaxReturnedLetters}
}

func (p *consolePages) returnedLettersPage(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	data := newReturnedLettersPage(pc, web.NewForm())
	var err error
	if data.Returned, err = p.s.ReturnedLetters(r.Context(), pc.Service.ID, returnedLettersListed); err != nil {
		return err
	}
	return p.render(w, r, "letters-returned", data)
}

// recordReturnedLetters records the letters in the box and shows what became of each. The
// outcome is shown on the page the form posted to rather than after a redirect: recording
// the same letters again changes nothing, so a refresh that posts again does no harm.
func (p *consolePages) recordReturnedLetters(w http.ResponseWriter, r *http.Request, pc console.PageContext) error {
	f, err := web.ParseForm(w, r)
	if err != nil {
		return err
	}
	data := newReturnedLettersPage(pc, f)
	results, err := p.s.RecordReturnedLetters(r.Context(), pc.Service.ID, strings.Split(f.Raw("letters"), "\n"), pc.User.Email)
	if err != nil {
		if !failInOrder(f, err, "letters", "letters") {
			return err
		}
		if data.Returned, err = p.s.ReturnedLetters(r.Context(), pc.Service.ID, returnedLettersListed); err != nil {
			return err
		}
		return p.renderInvalid(w, r, "letters-returned", data)
	}
	data.Results = results
	recorded := 0
	for _, res := range results {
		if res.Outcome == ReturnedRecorded {
			recorded++
		}
	}
	if recorded > 0 {
		data.Banner = lettersMoved(recorded, "recorded as returned")
	}
	data.Form = web.NewForm()
	if data.Returned, err = p.s.ReturnedLetters(r.Context(), pc.Service.ID, returnedLettersListed); err != nil {
		return err
	}
	return p.render(w, r, "letters-returned", data)
}
