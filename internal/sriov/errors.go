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

package sriov

import (
	"errors"
	"fmt"
	"syscall"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
)

// Failure reasons. They are the NodeNetworkState condition reasons of the API.
const (
	ReasonNumVfsExceedsTotal = plexusv1alpha1.NodeNetworkStateNumVfsExceedsTotalReason
	ReasonDeviceBusy         = plexusv1alpha1.NodeNetworkStateDeviceBusyReason
	ReasonDriverBindFailed   = plexusv1alpha1.NodeNetworkStateDriverBindFailedReason
	ReasonPFNotFound         = plexusv1alpha1.NodeNetworkStatePFNotFoundReason
	ReasonOutOfMemory        = plexusv1alpha1.NodeNetworkStateOutOfMemoryReason
	ReasonReadBackMismatch   = plexusv1alpha1.NodeNetworkStateReadBackMismatchReason
	ReasonPermissionDenied   = plexusv1alpha1.NodeNetworkStatePermissionDeniedReason
)

// Sentinel errors, one per reason; every *Error wraps exactly one of them.
var (
	ErrNumVfsExceedsTotal = errors.New(ReasonNumVfsExceedsTotal)
	ErrDeviceBusy         = errors.New(ReasonDeviceBusy)
	ErrDriverBindFailed   = errors.New(ReasonDriverBindFailed)
	ErrPFNotFound         = errors.New(ReasonPFNotFound)
	ErrOutOfMemory        = errors.New(ReasonOutOfMemory)
	ErrReadBackMismatch   = errors.New(ReasonReadBackMismatch)
	ErrPermissionDenied   = errors.New(ReasonPermissionDenied)
)

var sentinels = map[string]error{
	ReasonNumVfsExceedsTotal: ErrNumVfsExceedsTotal,
	ReasonDeviceBusy:         ErrDeviceBusy,
	ReasonDriverBindFailed:   ErrDriverBindFailed,
	ReasonPFNotFound:         ErrPFNotFound,
	ReasonOutOfMemory:        ErrOutOfMemory,
	ReasonReadBackMismatch:   ErrReadBackMismatch,
	ReasonPermissionDenied:   ErrPermissionDenied,
}

// Error is a failure on one device. errors.Is matches both the reason's sentinel and the
// underlying cause (for example syscall.EBUSY).
type Error struct {
	// Reason is one of the Reason* constants.
	Reason string
	// Device is the PCI address of the PF or VF.
	Device string
	// Op says what was being done, e.g. "set sriov_numvfs to 4".
	Op string
	// Err is the underlying cause; may be nil.
	Err error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("%s: %s: %s", e.Device, e.Op, e.Reason)
	}
	return fmt.Sprintf("%s: %s: %s: %v", e.Device, e.Op, e.Reason, e.Err)
}

// Unwrap returns the reason's sentinel and the cause.
func (e *Error) Unwrap() []error {
	errs := []error{sentinels[e.Reason]}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// ReasonOf returns the reason of the first *Error in err's tree, or "" if there is none.
func ReasonOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// writeError turns a failed sysfs write into an *Error whose reason comes from the kernel errno,
// or fallback for other errors. With an empty fallback, unknown errors are wrapped without a
// reason (ReasonOf returns "").
func writeError(device, op string, err error, fallback string) error {
	reason := fallback
	switch {
	case errors.Is(err, syscall.EBUSY):
		reason = ReasonDeviceBusy
	case errors.Is(err, syscall.ENOMEM), errors.Is(err, syscall.ENOSPC):
		// ENOSPC: MSI-X vectors exhausted, the same class of resource shortage.
		reason = ReasonOutOfMemory
	case errors.Is(err, syscall.ERANGE):
		reason = ReasonNumVfsExceedsTotal
	case errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EROFS):
		// EPERM: e.g. an MTU without CAP_NET_ADMIN; EROFS: /sys mounted read-only.
		reason = ReasonPermissionDenied
	}
	if reason == "" {
		return fmt.Errorf("%s: %s: %w", device, op, err)
	}
	return &Error{Reason: reason, Device: device, Op: op, Err: err}
}
