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

package plugin

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Log levels, lowest first.
const (
	levelError = iota
	levelInfo
	levelVerbose
	levelDebug
)

// logger writes leveled lines to stderr or a file; never to stdout (the result channel).
type logger struct {
	w      io.Writer
	level  int
	prefix string
	closer io.Closer
}

func newLogger(conf *NetConf, stderr io.Writer, prefix string) *logger {
	l := &logger{w: stderr, level: levelInfo, prefix: prefix}
	switch strings.ToLower(conf.LogLevel) {
	case "error", "panic":
		l.level = levelError
	case "verbose":
		l.level = levelVerbose
	case "debug":
		l.level = levelDebug
	}
	if conf.LogFile != "" {
		f, err := os.OpenFile(conf.LogFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err == nil {
			l.w, l.closer = f, f
		} else {
			l.logf(levelError, "Failed to open logFile %s, logging to stderr: %v", conf.LogFile, err)
		}
	}
	return l
}

func (l *logger) logf(level int, format string, args ...any) {
	if l == nil || level > l.level || l.w == nil {
		return
	}
	names := [...]string{"error", "info", "verbose", "debug"}
	fmt.Fprintf(l.w, "%s [%s] %s%s\n", time.Now().UTC().Format(time.RFC3339Nano), names[level], l.prefix, fmt.Sprintf(format, args...))
}

func (l *logger) Errorf(format string, args ...any)   { l.logf(levelError, format, args...) }
func (l *logger) Infof(format string, args ...any)    { l.logf(levelInfo, format, args...) }
func (l *logger) Verbosef(format string, args ...any) { l.logf(levelVerbose, format, args...) }
func (l *logger) Debugf(format string, args ...any)   { l.logf(levelDebug, format, args...) }

func (l *logger) Close() {
	if l != nil && l.closer != nil {
		_ = l.closer.Close() // nothing useful to do with a close error of a log file
	}
}
