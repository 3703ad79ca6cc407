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

package install

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFileAtomic writes data to path through a temporary file in the same directory, fsynced
// and renamed over path, then fsyncs the directory. Readers (and a runtime executing the old
// binary) see either the old or the new content, never a partial file, and the old inode stays
// intact for whoever has it open. It returns false without writing when path already holds
// exactly data with mode perm.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) (bool, error) {
	if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, data) {
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm() == perm {
			return false, nil
		}
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".plexus-tmp-*")
	if err != nil {
		return false, fmt.Errorf("failed to create a temporary file in %s: %w", dir, err)
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close()           // already failing
			_ = os.Remove(tmp.Name()) // best effort cleanup of our own temp file
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return false, fmt.Errorf("failed to write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return false, fmt.Errorf("failed to chmod %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return false, fmt.Errorf("failed to fsync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("failed to close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return false, fmt.Errorf("failed to rename %s to %s: %w", tmp.Name(), path, err)
	}
	done = true
	return true, SyncDir(dir)
}

// CopyFileAtomic copies src to dst like WriteFileAtomic, comparing the content first so an
// unchanged binary is not rewritten.
func CopyFileAtomic(src, dst string, perm os.FileMode) (bool, error) {
	same, err := sameContent(src, dst)
	if err != nil {
		return false, err
	}
	if same {
		if fi, err := os.Stat(dst); err == nil && fi.Mode().Perm() == perm {
			return false, nil
		}
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return false, fmt.Errorf("failed to read %s: %w", src, err)
	}
	return WriteFileAtomic(dst, data, perm)
}

// sameContent compares two files by size and SHA-256; a missing dst differs.
func sameContent(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if err != nil {
		return false, fmt.Errorf("failed to stat %s: %w", a, err)
	}
	fb, err := os.Stat(b)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("failed to stat %s: %w", b, err)
	}
	if fa.Size() != fb.Size() {
		return false, nil
	}
	ha, err := FileSHA256(a)
	if err != nil {
		return false, err
	}
	hb, err := FileSHA256(b)
	if err != nil {
		return false, err
	}
	return ha == hb, nil
}

// FileSHA256 returns the hex SHA-256 of a file.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("failed to open %s: %w", path, err)
	}
	defer f.Close() //nolint:errcheck // read-only
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("failed to read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// SyncDir fsyncs a directory, making the renames and creations in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("failed to open %s: %w", dir, err)
	}
	defer d.Close() //nolint:errcheck // read-only
	if err := d.Sync(); err != nil {
		return fmt.Errorf("failed to fsync %s: %w", dir, err)
	}
	return nil
}
