package dashboards

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Grafana refuses UIDs longer than 40 characters, for folders and
// dashboards alike, and (where folders are rows of the dashboard table) the
// two share one namespace per organisation.
const maxUID = 40

// uidPrefix starts every UID Tollgate generates. Prune deletes only
// dashboards whose UID starts with it, so that a copy a user saved from a
// generated dashboard (which keeps the tags but gets a new UID) survives.
const uidPrefix = "tg_"

// maxKey is the longest tenant part of a UID: "tg_" + key + "_" + the
// longest kind ("cost") fits in 40 characters.
const maxKey = maxUID - len(uidPrefix) - 1 - 4

// tenantKey is the tenant's part of every UID: the name itself when it is
// short enough, else a prefix and a hash of the whole name. Tenant names
// are [a-z0-9-] and never contain '_', so "tg_<key>_<kind>" can never be
// read two ways.
func tenantKey(tenant string) string {
	if len(tenant) <= maxKey {
		return tenant
	}
	sum := sha256.Sum256([]byte(tenant))
	h := hex.EncodeToString(sum[:])[:8]
	return tenant[:maxKey-len(h)-1] + "-" + h
}

// FolderUID is the UID of a tenant's folder.
func FolderUID(tenant string) string { return uidPrefix + tenantKey(tenant) }

// DashboardUID is the UID of one of a tenant's dashboards.
func DashboardUID(tenant string, kind Kind) string {
	return uidPrefix + tenantKey(tenant) + "_" + string(kind)
}

// The platform's folder and overview: a double underscore, which no
// tenant key can start with, keeps them apart from every tenant's UIDs.
const (
	PlatformFolderUID = uidPrefix + "_platform"
	OverviewUID       = uidPrefix + "_overview"
)

// IsManagedUID reports whether a UID has the form of a generated one.
func IsManagedUID(uid string) bool {
	return len(uid) > len(uidPrefix) && uid[:len(uidPrefix)] == uidPrefix
}

// IsGeneratedPlacement reports whether a dashboard UID has the form of a
// generated one and sits in the folder generated for it: tg_<key>_<kind>
// in tg_<key>, the overview in the platform folder. Prune deletes nothing
// else, whatever its tags.
func IsGeneratedPlacement(dashboardUID, folderUID string) bool {
	if !IsManagedUID(dashboardUID) || !IsManagedUID(folderUID) {
		return false
	}
	if folderUID == PlatformFolderUID {
		return dashboardUID == OverviewUID
	}
	rest, ok := strings.CutPrefix(dashboardUID, folderUID+"_")
	return ok && rest != "" && !strings.Contains(rest, "_")
}

func checkUID(uid string) error {
	if len(uid) > maxUID {
		return fmt.Errorf("UID %q is %d characters long; Grafana allows %d", uid, len(uid), maxUID)
	}
	return nil
}
