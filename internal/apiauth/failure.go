package apiauth

// Reason says why a request could not be authenticated. The cases are those GOV.UK Notify
// distinguishes (notify.md §1.3), in the order it checks them; each API maps them to its own
// wire format.
type Reason int

const (
	NoCredentials   Reason = iota + 1 // no Authorization header
	NotBearer                         // a scheme other than Bearer
	MalformedToken                    // not a JWT, or a JWT error other than those below
	NoIssuer                          // the token has no iss claim
	BadIssuer                         // iss is not a service id
	ServiceNotFound                   // no such service
	NoKeys                            // the service has never had an API key
	ServiceArchived                   // the service is archived
	WrongAlgorithm                    // the token is not signed with HS256
	ClockSkew                         // iat is more than 30 seconds from our clock, or not a number
	KeyRevoked                        // the key that signed the token has been revoked
	KeyNotFound                       // no key of the service matches
	MalformedKey                      // a bearer key that is not laid out as <name>-<service id>-<secret>
)

var reasonText = map[Reason]string{
	NoCredentials:   "no API key was given",
	NotBearer:       "the Authorization header must use the Bearer scheme",
	MalformedToken:  "the token is not a valid JWT",
	NoIssuer:        "the token has no iss claim",
	BadIssuer:       "the token's iss claim is not a service id",
	ServiceNotFound: "no service has that id",
	NoKeys:          "the service has no API keys",
	ServiceArchived: "the service is archived",
	WrongAlgorithm:  "the token must be signed with HS256",
	ClockSkew:       "the token's iat must be within 30 seconds of the current time",
	KeyRevoked:      "the API key has been revoked",
	KeyNotFound:     "the API key is not valid",
	MalformedKey:    "the API key is not laid out as <name>-<service id>-<secret>",
}

func (r Reason) String() string { return reasonText[r] }

// Failure is an authentication failure.
type Failure struct {
	Reason Reason
}

func (f *Failure) Error() string { return "authentication failed: " + f.Reason.String() }

// MissingCredentials reports whether the request offered no credentials at all (HTTP 401),
// as opposed to credentials that are wrong (HTTP 403 in GOV.UK Notify's scheme).
func (f *Failure) MissingCredentials() bool {
	return f.Reason == NoCredentials || f.Reason == NotBearer
}
