// Package version holds the build version of the Plexus binaries, set with -ldflags.
package version

// Version is the Plexus release, overridden at build time with
// -ldflags "-X github.com/plexus-net/plexus/internal/version.Version=...".
var Version = "v0.1.0-dev"
