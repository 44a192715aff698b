package platform

import (
	"slices"
	"strings"

	"github.com/commons-gov/commons/internal/failure"
)

// Permission is one named permission with the label the console shows beside its checkbox.
type Permission struct {
	Name  string
	Label string
}

// Service permissions: what a service may use the platforms for. Platform admins grant them.
const (
	ServiceEmail                = "email"
	ServiceSMS                  = "sms"
	ServiceLetter               = "letter"
	ServiceInternationalSMS     = "international_sms"
	ServiceInboundSMS           = "inbound_sms"
	ServiceInternationalLetters = "international_letters"
	ServiceCardPayments         = "card_payments"
)

// ServicePermissions is the vocabulary of service permissions, in the order the console lists
// them.
var ServicePermissions = []Permission{
	{ServiceEmail, "Send emails"},
	{ServiceSMS, "Send text messages"},
	{ServiceLetter, "Send letters"},
	{ServiceInternationalSMS, "Send text messages to international phone numbers"},
	{ServiceInboundSMS, "Receive text messages"},
	{ServiceInternationalLetters, "Send letters to international addresses"},
	{ServiceCardPayments, "Take card payments"},
}

// DefaultServicePermissions are what a new service gets unless it asks for others: the three
// Notify channels, as GOV.UK Notify gives its new services.
var DefaultServicePermissions = []string{ServiceEmail, ServiceSMS, ServiceLetter}

// Team permissions: what a team member may do in a service.
const (
	ManageService   = "manage_service"
	ManageAPIKeys   = "manage_api_keys"
	ManageTemplates = "manage_templates"
	SendMessages    = "send_messages"
	ViewActivity    = "view_activity"
	ManagePayments  = "manage_payments"
	RefundPayments  = "refund_payments"
)

// TeamPermissions is the vocabulary of team member permissions, in the order the console lists
// them.
var TeamPermissions = []Permission{
	{ManageService, "Manage settings and team"},
	{ManageAPIKeys, "Manage API integration"},
	{ManageTemplates, "Add and edit templates"},
	{SendMessages, "Send messages"},
	{ViewActivity, "See dashboard and activity"},
	{ManagePayments, "Manage payments"},
	{RefundPayments, "Issue refunds"},
}

// normalisePermissions checks names against a vocabulary and returns them without duplicates,
// in vocabulary order, so that stored lists compare equal whatever order a form sent them in.
func normalisePermissions(vocabulary []Permission, perms []string) ([]string, error) {
	want := map[string]bool{}
	for _, p := range perms {
		p = strings.TrimSpace(p)
		if !slices.ContainsFunc(vocabulary, func(v Permission) bool { return v.Name == p }) {
			return nil, failure.Field("permissions", "Select permissions from the list (%q is not one of them)", p)
		}
		want[p] = true
	}
	out := []string{}
	for _, v := range vocabulary {
		if want[v.Name] {
			out = append(out, v.Name)
		}
	}
	return out, nil
}

// joinPermissions and splitPermissions convert between a list and its stored form, a
// comma-separated column.
func joinPermissions(perms []string) string { return strings.Join(perms, ",") }

func splitPermissions(stored string) []string {
	if stored == "" {
		return []string{}
	}
	return strings.Split(stored, ",")
}

// isTeamPermission reports whether name is in the team vocabulary.
func isTeamPermission(name string) bool {
	return slices.ContainsFunc(TeamPermissions, func(v Permission) bool { return v.Name == name })
}
