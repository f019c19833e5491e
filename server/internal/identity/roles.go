package identity

// Roles. An admin does everything; a technician works the queue, the
// devices and announcements and keeps their own profile; a viewer (an IT
// manager, an auditor) reads the queue, the devices and reports.
const (
	RoleAdmin      = "admin"
	RoleTechnician = "technician"
	RoleViewer     = "viewer"
)

// Roles lists every role, most powerful first.
var Roles = []string{RoleAdmin, RoleTechnician, RoleViewer}

// ValidRole reports whether role is one of Roles.
func ValidRole(role string) bool {
	for _, r := range Roles {
		if r == role {
			return true
		}
	}
	return false
}

// Access says who may use a route.
type Access int

// Access levels, from open to narrow.
const (
	// Public routes check their own credentials (a password, a setup
	// token, an enrolment token, a device secret) or need none.
	Public Access = iota
	// Reader: any signed-in role, viewers included.
	Reader
	// Staff: technicians and admins.
	Staff
	// Admin: admins only.
	Admin
)

// Allows reports whether role may use a route of this access.
func (a Access) Allows(role string) bool {
	switch a {
	case Public:
		return true
	case Reader:
		return ValidRole(role)
	case Staff:
		return role == RoleAdmin || role == RoleTechnician
	case Admin:
		return role == RoleAdmin
	}
	return false
}

func (a Access) String() string {
	return [...]string{"public", "reader", "staff", "admin"}[a]
}

func (a Access) refusal() string {
	if a == Admin {
		return "Only an admin can do this."
	}
	return "Your role can look but not change things here. An admin can change your role."
}
