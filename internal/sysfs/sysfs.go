/*
Copyright 2026 The Plexus Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package sysfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Root gives access to the attributes below one sysfs root. Implementations must return errors
// that wrap the kernel's errno (syscall.Errno) so callers can classify them with errors.Is.
type Root interface {
	// Path returns the absolute path of rel below the root (for messages and symlink resolution).
	Path(rel string) string
	// ReadFile returns the content of an attribute.
	ReadFile(rel string) ([]byte, error)
	// WriteFile writes data to an existing attribute in a single write(2), as the kernel expects.
	WriteFile(rel string, data []byte) error
	// ReadDir lists a directory.
	ReadDir(rel string) ([]fs.DirEntry, error)
	// Readlink returns the target of a symlink.
	Readlink(rel string) (string, error)
	// Stat returns file information, following symlinks.
	Stat(rel string) (fs.FileInfo, error)
}

// dirRoot is the real implementation: plain file operations below a directory.
type dirRoot struct{ dir string }

// New returns a Root for the sysfs tree mounted at dir (normally "/sys").
func New(dir string) Root { return dirRoot{dir: filepath.Clean(dir)} }

func (r dirRoot) Path(rel string) string { return filepath.Join(r.dir, filepath.FromSlash(rel)) }

func (r dirRoot) ReadFile(rel string) ([]byte, error) { return os.ReadFile(r.Path(rel)) }

func (r dirRoot) WriteFile(rel string, data []byte) error {
	// NOTE: no O_CREATE and no O_TRUNC: sysfs attributes exist or the feature is absent, and the
	// kernel handles each write(2) as one complete store.
	f, err := os.OpenFile(r.Path(rel), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr != nil {
		return werr
	}
	return cerr
}

func (r dirRoot) ReadDir(rel string) ([]fs.DirEntry, error) { return os.ReadDir(r.Path(rel)) }

func (r dirRoot) Readlink(rel string) (string, error) { return os.Readlink(r.Path(rel)) }

func (r dirRoot) Stat(rel string) (fs.FileInfo, error) { return os.Stat(r.Path(rel)) }

// ReadString reads an attribute and trims surrounding white space.
func ReadString(r Root, rel string) (string, error) {
	b, err := r.ReadFile(rel)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// ReadInt reads an attribute holding a decimal integer.
func ReadInt(r Root, rel string) (int, error) {
	s, err := ReadString(r, rel)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", r.Path(rel), err)
	}
	return n, nil
}

// WriteString writes s followed by a newline, as echo(1) would.
func WriteString(r Root, rel, s string) error {
	return r.WriteFile(rel, []byte(s+"\n"))
}

// WriteInt writes a decimal integer.
func WriteInt(r Root, rel string, n int) error { return WriteString(r, rel, strconv.Itoa(n)) }

// LinkBase returns the last element of a symlink's target, e.g. the driver name of
// "bus/pci/devices/<addr>/driver". It returns "" and no error when the link does not exist.
func LinkBase(r Root, rel string) (string, error) {
	t, err := r.Readlink(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return filepath.Base(t), nil
}

// Exists reports whether rel exists below the root.
func Exists(r Root, rel string) bool {
	_, err := r.Stat(rel)
	return err == nil
}
