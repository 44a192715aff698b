package notify

import "errors"

// joinFieldErrors joins several field errors so that every one reaches the form or problem
// response (web.FieldErrors walks errors.Join), while the first decides the kind.
func joinFieldErrors(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}
